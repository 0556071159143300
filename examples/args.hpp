// args: the examples' tiny command-line parser (--name value, --flag), with a usage text.
// Thread-safety: none; used from main().
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cryptcom/options.hpp"

namespace examples {

class args {
 public:
  args(int argc, char** argv, std::string usage) : usage_(std::move(usage)) {
    for (int i = 1; i < argc; ++i) items_.emplace_back(argv[i]);
    used_.assign(items_.size(), false);
    if (flag("--help") || flag("-h")) {
      std::printf("%s", usage_.c_str());
      std::exit(0);
    }
  }

  std::optional<std::string> value(std::string_view name) {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i] != name) continue;
      if (i + 1 >= items_.size()) fail("missing value after " + std::string(name));
      used_[i] = used_[i + 1] = true;
      return items_[i + 1];
    }
    return std::nullopt;
  }
  // Every value given with `name` (--meta a=1 --meta b=2), in order.
  std::vector<std::string> values(std::string_view name) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i] != name || used_[i]) continue;
      if (i + 1 >= items_.size()) fail("missing value after " + std::string(name));
      used_[i] = used_[i + 1] = true;
      out.push_back(items_[i + 1]);
    }
    return out;
  }
  // The arguments not taken by the calls before that do not start with '-'.
  std::vector<std::string> positional() {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (used_[i] || items_[i].starts_with("-")) continue;
      used_[i] = true;
      out.push_back(items_[i]);
    }
    return out;
  }
  std::string text(std::string_view name, std::string fallback) {
    return value(name).value_or(std::move(fallback));
  }
  long number(std::string_view name, long fallback) {
    const auto v = value(name);
    if (!v) return fallback;
    char* end = nullptr;
    const long n = std::strtol(v->c_str(), &end, 10);
    if (end == v->c_str() || *end != '\0' || n < 0) {
      fail(std::string(name) + " needs a non-negative number, got '" + *v + "'");
    }
    return n;
  }
  bool flag(std::string_view name) {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i] == name) {
        used_[i] = true;
        return true;
      }
    }
    return false;
  }
  // --flow push|pull; nothing when not given (the socket type's default).
  std::optional<cryptcom::flow> flow() {
    const auto v = value("--flow");
    if (!v) return std::nullopt;
    if (*v == "push") return cryptcom::flow::push;
    if (*v == "pull") return cryptcom::flow::pull;
    fail("--flow is push or pull, got '" + *v + "'");
  }
  // Fails on anything not consumed by the calls above.
  void done() {
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (!used_[i]) fail("unknown argument '" + items_[i] + "'");
    }
  }
  [[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "error: %s\n\n%s", why.c_str(), usage_.c_str());
    std::exit(64);
  }

 private:
  std::string usage_;
  std::vector<std::string> items_;
  std::vector<bool> used_;
};

}  // namespace examples
