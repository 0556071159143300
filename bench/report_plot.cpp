#include "report_plot.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "json_text.hpp"

extern char** environ;

namespace cryptcom::bench {
namespace {

namespace fs = std::filesystem;

// Removes the directory however write_plot leaves.
class temporary_directory {
 public:
  temporary_directory() {
    std::string name = (fs::temp_directory_path() / "cryptcom_bench_plot.XXXXXX").string();
    if (mkdtemp(name.data()) == nullptr)
      throw std::runtime_error("cannot create a temporary directory");
    path_ = name;
  }
  ~temporary_directory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  temporary_directory(const temporary_directory&) = delete;
  temporary_directory& operator=(const temporary_directory&) = delete;

  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A gnuplot single-quoted string: only the quote itself needs escaping, by doubling it.
std::string gnuplot_quoted(const std::string& text) {
  if (text.find_first_of("\n\r") != std::string::npos) {
    throw std::runtime_error("a plot path or name may not contain a line break");
  }
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

std::string number(double value) {
  std::string text;
  append_json_number(text, value);
  return text == "null" ? "?" : text;
}

struct line {
  std::string title;
  fs::path data;
  bool has_rate = false;
  bool has_latency = false;
};

// Columns: size, MB/s median, p50 us median; "?" where a figure is missing.
line write_data(const fs::path& directory, std::size_t index, const std::string& title,
                const std::string& system, const char* throughput_metric,
                const bench_options& options, const result_store& results) {
  line l{title, directory / ("series" + std::to_string(index) + ".dat"), false, false};
  std::ofstream data(l.data);
  bool any = false;
  for (const auto size : options.sizes) {
    const auto rate = results.find({system, throughput_metric, size, 1});
    const auto p50 = results.find({system, metric::p50_us, size, 1});
    data << size << ' ' << (rate ? number(rate->median) : "?") << ' '
         << (p50 ? number(p50->median) : "?") << '\n';
    l.has_rate = l.has_rate || rate;
    l.has_latency = l.has_latency || p50;
    any = any || rate || p50;
  }
  data.close();
  if (!data) throw std::runtime_error("cannot write " + l.data.string());
  if (!any) l.title.clear();  // nothing to draw
  return l;
}

void run_gnuplot(const fs::path& script) {
  const std::string program = "gnuplot";
  const std::string script_path = script.string();
  char* const argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(script_path.c_str()),
                        nullptr};
  pid_t child = 0;
  if (posix_spawnp(&child, program.c_str(), nullptr, nullptr, argv, environ) != 0) {
    throw std::runtime_error("cannot run gnuplot (is gnuplot installed?)");
  }
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0) throw std::runtime_error("lost track of gnuplot");
    if (std::chrono::steady_clock::now() > give_up) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      throw std::runtime_error("gnuplot ran for more than 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("gnuplot failed (exit status " + std::to_string(status) + ")");
  }
}

}  // namespace

void write_plot(const std::string& svg_path, const bench_options& options,
                const std::vector<std::string>& systems, const result_store& results) {
  temporary_directory directory;
  std::vector<line> lines;
  for (const auto& system : systems) {
    lines.push_back(write_data(directory.path(), lines.size(), system, system, metric::mb_per_s,
                               options, results));
  }
  if (options.wants(k_limit_system)) {
    lines.push_back(write_data(directory.path(), lines.size(),
                               "limit (" + cores_label(options.limit_threads) + ")", k_limit_system,
                               metric::mb_per_s_all_cores, options, results));
  }

  std::string xtics;
  for (const auto size : options.sizes) {
    if (!xtics.empty()) xtics += ", ";
    xtics += gnuplot_quoted(size_label(size)) + " " + std::to_string(size);
  }
  auto plot_command = [&](const char* column, bool latency) {
    std::string command;
    for (const auto& l : lines) {
      if (l.title.empty() || (latency ? !l.has_latency : !l.has_rate)) continue;
      command += command.empty() ? "plot " : ", \\\n     ";
      command += gnuplot_quoted(l.data.string()) + " using 1:" + column +
                 " with linespoints linewidth 2 title " + gnuplot_quoted(l.title) + " noenhanced";
    }
    // gnuplot refuses a plot with no defined point at all; an empty frame says it better.
    return command.empty() ? std::string(
                                 "set label 1 'no data' at graph 0.5, 0.5 center\n"
                                 "plot 1 notitle linecolor rgb 'white'\n"
                                 "unset label 1")
                           : command;
  };

  const fs::path script = directory.path() / "plot.gp";
  std::ofstream gp(script);
  gp << "set terminal svg size 1100,480 dynamic background rgb 'white' font 'sans,11'\n"
     << "set output " << gnuplot_quoted(fs::absolute(svg_path).string()) << "\n"
     << "set datafile missing '?'\n"
     << "set multiplot layout 1,2 title 'cryptcom bench, tcp on 127.0.0.1 (medians of "
     << options.reps << " reps)'\n"
     << "set logscale xy\n"
     << "set grid\n"
     << "set key top left\n"
     << "set xlabel 'message size'\n"
     << "set xtics (" << xtics << ")\n"
     << "set xrange [" << static_cast<double>(options.sizes.front()) / 2 << ":"
     << static_cast<double>(options.sizes.back()) * 2 << "]\n"
     << "set title 'one-way throughput, DEALER to ROUTER'\n"
     << "set ylabel 'MB/s (10^6 B/s)' noenhanced\n"
     << plot_command("2", false) << "\n"
     << "set title 'REQ/REP round trip, p50'\n"
     << "set ylabel 'microseconds'\n"
     << plot_command("3", true) << "\n"
     << "unset multiplot\n";
  gp.close();
  if (!gp) throw std::runtime_error("cannot write " + script.string());
  run_gnuplot(script);
  std::error_code error;
  if (fs::file_size(svg_path, error) == 0 || error) {
    throw std::runtime_error("gnuplot wrote no " + svg_path);
  }
}

}  // namespace cryptcom::bench
