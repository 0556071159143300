// The capture file format (see capture.hpp).
#include "capture.hpp"

#include <array>
#include <chrono>
#include <stdexcept>

namespace cryptcom::tool {

namespace {

constexpr char magic[] = "CRYPTCOM-CAPTURE 1\n";
constexpr std::size_t magic_size = sizeof magic - 1;
constexpr std::uint32_t max_frames = 100000;
constexpr std::uint32_t max_frame_size = 1u << 30;

template <class T>
void put(std::ostream& out, T v) {
  std::array<char, sizeof(T)> b{};
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    b[sizeof(T) - 1 - i] = static_cast<char>(v & 0xff);
    v = static_cast<T>(v >> 8);
  }
  out.write(b.data(), b.size());
}

// Reads a big-endian T; false at a clean end of file (nothing read), throws if cut short.
template <class T>
bool get(std::istream& in, T& v, const char* what) {
  std::array<char, sizeof(T)> b{};
  in.read(b.data(), b.size());
  if (in.gcount() == 0 && in.eof()) return false;
  if (static_cast<std::size_t>(in.gcount()) != b.size()) {
    throw std::runtime_error(std::string("capture file cut short in ") + what);
  }
  v = 0;
  for (char c : b) v = static_cast<T>((v << 8) | static_cast<unsigned char>(c));
  return true;
}

}  // namespace

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

void write_header(std::ostream& out) { out.write(magic, magic_size); }

void write_message(std::ostream& out, const captured_message& m) {
  put<std::uint64_t>(out, m.time_us);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(m.frames.size()));
  for (const auto& f : m.frames) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(f.size()));
    out.write(f.data(), static_cast<std::streamsize>(f.size()));
  }
}

void read_header(std::istream& in) {
  std::array<char, magic_size> b{};
  in.read(b.data(), b.size());
  if (static_cast<std::size_t>(in.gcount()) != magic_size ||
      std::string(b.data(), b.size()) != magic) {
    throw std::runtime_error("not a cryptcom capture file (no \"CRYPTCOM-CAPTURE 1\" header)");
  }
}

std::optional<captured_message> read_message(std::istream& in) {
  captured_message m;
  if (!get(in, m.time_us, "a message's time")) return std::nullopt;
  std::uint32_t count = 0;
  if (!get(in, count, "a message's frame count")) {
    throw std::runtime_error("capture file cut short after a message's time");
  }
  if (count > max_frames) {
    throw std::runtime_error("capture file: a message of " + std::to_string(count) +
                             " frames (at most " + std::to_string(max_frames) + ")");
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t size = 0;
    if (!get(in, size, "a frame's size")) throw std::runtime_error("capture file cut short");
    if (size > max_frame_size) {
      throw std::runtime_error("capture file: a frame of " + std::to_string(size) + " bytes");
    }
    std::string frame(size, '\0');
    in.read(frame.data(), size);
    if (static_cast<std::uint32_t>(in.gcount()) != size) {
      throw std::runtime_error("capture file cut short in a frame");
    }
    m.frames.push_back(std::move(frame));
  }
  return m;
}

}  // namespace cryptcom::tool
