#include "report_json.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "json_text.hpp"

namespace cryptcom::bench {
namespace {

void field(std::string& out, const char* name, const std::string& value) {
  append_json_string(out, name);
  out += ": ";
  append_json_string(out, value);
}

void field(std::string& out, const char* name, double value) {
  append_json_string(out, name);
  out += ": ";
  append_json_number(out, value);
}

void field(std::string& out, const char* name, std::size_t value) {
  append_json_string(out, name);
  out += ": ";
  out += std::to_string(value);
}

}  // namespace

std::string results_json(const host_info& host, const result_store& results) {
  std::string out = "{\n  \"header\": {\n    ";
  field(out, "date", host.date);
  out += ",\n    ";
  field(out, "cpu", host.cpu);
  out += ",\n    ";
  field(out, "cores", static_cast<std::size_t>(host.cores > 0 ? host.cores : 0));
  out += ",\n    ";
  field(out, "limit_threads",
        static_cast<std::size_t>(host.limit_threads > 0 ? host.limit_threads : 0));
  out += ",\n    ";
  field(out, "libzmq", host.libzmq);
  out += ",\n    ";
  field(out, "libsodium", host.libsodium);
  out += ",\n    ";
  field(out, "cryptcom", host.cryptcom);
  out += ",\n    ";
  field(out, "command", host.command);
  out += ",\n    ";
  field(out, "load_average", host.load_average);
  out += "\n  },\n  \"rows\": [";
  bool first = true;
  for (const auto& s : results.all()) {
    if (s.samples.empty()) continue;
    const auto sum = summarize(s.samples);
    out += first ? "\n    {" : ",\n    {";
    first = false;
    field(out, "system", s.key.system);
    out += ", ";
    field(out, "metric", s.key.metric);
    out += ", ";
    field(out, "size", s.key.size);
    out += ", ";
    field(out, "peers", static_cast<std::size_t>(s.key.peers));
    out += ", ";
    field(out, "min", sum.min);
    out += ", ";
    field(out, "median", sum.median);
    out += ", ";
    field(out, "max", sum.max);
    out += ", ";
    field(out, "reps", sum.reps);
    out += "}";
  }
  out += first ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

void write_json_file(const std::string& path, const host_info& host, const result_store& results) {
  const std::string text = results_json(host, results);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) throw std::runtime_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot rename " + temporary + " to " + path);
  }
}

}  // namespace cryptcom::bench
