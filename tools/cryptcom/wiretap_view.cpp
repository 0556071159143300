// The wiretap's view of a capture: decode the last frame of each message, render a table row or
// a JSON line, keep totals.
#include "wiretap_view.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string_view>
#include <vector>

#include "cryptcom/types.hpp"
#include "json_text.hpp"
#include "wire/frame.hpp"

namespace cryptcom::tool {

namespace {

byte_view bytes_of(const std::string& s) {
  return {reinterpret_cast<const byte*>(s.data()), s.size()};
}

// A frame of the envelope as "5B:0080000029" (hex cut after 8 bytes).
std::string envelope_text(const std::string& frame) {
  std::string hex = to_hex(bytes_of(frame).first(std::min<std::size_t>(frame.size(), 8)));
  if (frame.size() > 8) hex += "..";
  return std::to_string(frame.size()) + "B" + (frame.empty() ? "" : ":" + hex);
}

std::string head_hex(const std::string& frame) {
  return to_hex(bytes_of(frame).first(std::min<std::size_t>(frame.size(), 16)));
}

// JSON object text, built field by field.
class json_object {
 public:
  json_object& text(std::string_view key, std::string_view value) {
    name(key);
    bench::append_json_string(out_, value);
    return *this;
  }
  json_object& number(std::string_view key, std::uint64_t value) {
    name(key);
    out_ += std::to_string(value);
    return *this;
  }
  json_object& raw(std::string_view key, std::string_view json) {
    name(key);
    out_ += json;
    return *this;
  }
  std::string str() const { return out_ + "}"; }

 private:
  void name(std::string_view key) {
    out_ += out_.size() > 1 ? "," : "";
    bench::append_json_string(out_, key);
    out_ += ":";
  }
  std::string out_ = "{";
};

std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

std::string json_string(std::string_view s) {
  std::string out;
  bench::append_json_string(out, s);
  return out;
}

std::string offered_key_json(const wire::offered_key& k) {
  return json_object()
      .text("id", k.id.hex())
      .text("key", to_hex(k.key.bytes))
      .number("ttl_ms", k.ttl_ms)
      .str();
}

std::string control_json(const wire::control_block& c) {
  std::vector<std::string> offers, acks, rejections;
  for (const auto& k : c.offers) offers.push_back(offered_key_json(k));
  for (const auto& a : c.acks) acks.push_back(json_string(a.hex()));
  for (const auto& r : c.rejections) {
    rejections.push_back(
        json_object().text("id", r.id.hex()).text("reason", to_string(r.reason)).str());
  }
  return json_object()
      .text("instance", c.instance.hex())
      .number("wanted", c.wanted)
      .raw("offers", json_array(offers))
      .raw("acks", json_array(acks))
      .raw("rejections", json_array(rejections))
      .str();
}

// "id id id (+61 more)" unless every id is wanted.
template <class T, class F>
std::string id_list(const std::vector<T>& items, bool all, F&& text_of) {
  const std::size_t shown = all ? items.size() : std::min<std::size_t>(items.size(), 4);
  std::string out;
  for (std::size_t i = 0; i < shown; ++i) out += (i ? " " : "") + text_of(items[i]);
  if (shown < items.size()) {
    out += " (+" + std::to_string(items.size() - shown) + " more; --all-ids lists them)";
  }
  return out;
}

}  // namespace

std::string wiretap_view::header() const {
  if (options_.json) return {};
  char line[160];
  std::snprintf(line, sizeof line, "%5s %9s  %-24s %-8s %8s  %-8s  %s\n", "#", "time s",
                "envelope (before frame)", "frame", "bytes", "key id", "what the wire shows");
  return line;
}

std::string wiretap_view::describe(const captured_message& m) {
  ++index_;
  if (index_ == 1) first_time_us_ = m.time_us;
  const double t =
      m.time_us >= first_time_us_ ? static_cast<double>(m.time_us - first_time_us_) / 1e6 : 0.0;

  const std::string empty;
  const std::string& last = m.frames.empty() ? empty : m.frames.back();
  const std::size_t envelope_frames = m.frames.empty() ? 0 : m.frames.size() - 1;
  std::string envelope;
  std::vector<std::string> envelope_json;
  for (std::size_t i = 0; i < envelope_frames; ++i) {
    envelope += (i ? " " : "") + envelope_text(m.frames[i]);
    envelope_json.push_back(json_object()
                                .number("size", m.frames[i].size())
                                .text("hex", to_hex(bytes_of(m.frames[i])))
                                .str());
  }
  if (envelope.empty()) envelope = "-";

  // The strict decoder of the protocol, with its default limits; it opens nothing.
  const auto decoded = wire::decode(bytes_of(last), wire::decode_limits{});

  std::string kind = "unknown", key = "-", what;
  std::vector<std::string> more;  // continuation lines of the table
  json_object frame_json;
  frame_json.number("size", last.size());
  const wire::control_block* control = nullptr;

  if (!decoded.ok()) {
    ++other_frames_;
    what = "not a cryptcom frame: " + decoded.error().to_string();
    if (!last.empty()) more.push_back("first bytes " + head_hex(last));
    frame_json.text("kind", "unknown")
        .text("error", decoded.error().to_string())
        .text("head", head_hex(last));
  } else if (decoded->kind == wire::frame_kind::data) {
    const wire::data_view& d = decoded->data;
    ++data_frames_;
    kind = "data";
    key = d.key_id.short_hex();
    data_keys_.insert(d.key_id.hex());
    sealed_bytes_ += d.ciphertext.size();
    what = "sealed " + std::to_string(d.ciphertext.size()) +
           " B (payload and tag; not opened), enc " + to_hex(byte_view(d.enc.bytes).first(4));
    if (d.reply_key) {
      ++reply_keys_;
      what += ", reply key " + d.reply_key->id.short_hex() + " ttl " +
              std::to_string(d.reply_key->ttl_ms) + " ms";
    }
    if (d.control) control = &*d.control;
    frame_json.text("kind", "data")
        .text("key_id", d.key_id.hex())
        .text("enc", to_hex(d.enc.bytes))
        .number("ciphertext_size", d.ciphertext.size())
        .raw("opened", "false")
        .raw("reply_key", d.reply_key ? offered_key_json(*d.reply_key) : "null")
        .raw("control", d.control ? control_json(*d.control) : "null");
  } else {
    ++control_frames_;
    kind = "control";
    control = &decoded->control;
    frame_json.text("kind", "control").raw("control", control_json(*control));
  }

  if (control != nullptr) {
    const wire::control_block& c = *control;
    instances_.insert(c.instance.short_hex());
    keys_requested_ += c.wanted;
    keys_offered_ += c.offers.size();
    acks_ += c.acks.size();
    rejections_ += c.rejections.size();
    std::string block = "instance " + c.instance.short_hex();
    if (c.wanted > 0) block += ", asks for " + std::to_string(c.wanted) + " keys";
    if (!c.offers.empty()) {
      const auto [lo, hi] =
          std::minmax_element(c.offers.begin(), c.offers.end(),
                              [](const auto& a, const auto& b) { return a.ttl_ms < b.ttl_ms; });
      block += ", offers " + std::to_string(c.offers.size()) + " keys (ttl " +
               std::to_string(lo->ttl_ms) +
               (lo->ttl_ms == hi->ttl_ms ? "" : ".." + std::to_string(hi->ttl_ms)) + " ms)";
      more.push_back("offered: " + id_list(c.offers, options_.all_ids,
                                           [](const auto& k) { return k.id.short_hex(); }));
    }
    if (!c.acks.empty()) {
      block += ", acknowledges " + std::to_string(c.acks.size());
      more.push_back("acknowledged: " + id_list(c.acks, options_.all_ids,
                                                [](const auto& g) { return g.short_hex(); }));
    }
    if (!c.rejections.empty()) {
      block += ", rejects " + std::to_string(c.rejections.size());
      more.push_back("rejected: " + id_list(c.rejections, true, [](const auto& r) {
                       return r.id.short_hex() + " " + std::string(to_string(r.reason));
                     }));
    }
    if (c.empty()) block += ", announces itself";
    what += (what.empty() ? "" : "; ") + block;
  }

  if (options_.json) {
    return json_object()
               .number("index", index_)
               .raw("time",
                    [&] {
                      char b[32];
                      std::snprintf(b, sizeof b, "%.6f", t);
                      return std::string(b);
                    }())
               .raw("envelope", json_array(envelope_json))
               .raw("frame", frame_json.str())
               .str() +
           "\n";
  }
  char line[256];
  std::snprintf(line, sizeof line, "%5" PRIu64 " %9.3f  %-24s %-8s %8zu  %-8s  ", index_, t,
                envelope.c_str(), kind.c_str(), last.size(), key.c_str());
  std::string out = line + what + "\n";
  for (const auto& l : more) out += std::string(60, ' ') + l + "\n";
  return out;
}

std::string wiretap_view::summary() const {
  if (options_.json) {
    std::vector<std::string> ids;
    for (const auto& i : instances_) ids.push_back(json_string(i));
    return json_object()
               .raw("summary", json_object()
                                   .number("messages", index_)
                                   .number("data_frames", data_frames_)
                                   .number("control_frames", control_frames_)
                                   .number("other_frames", other_frames_)
                                   .number("sealed_bytes", sealed_bytes_)
                                   .number("opened", 0)
                                   .number("keys_requested", keys_requested_)
                                   .number("keys_offered", keys_offered_)
                                   .number("reply_keys", reply_keys_)
                                   .number("distinct_data_keys", data_keys_.size())
                                   .number("acknowledgements", acks_)
                                   .number("rejections", rejections_)
                                   .raw("instances", json_array(ids))
                                   .str())
               .str() +
           "\n";
  }
  std::string instances;
  for (const auto& i : instances_) instances += " " + i;
  return std::to_string(index_) + " messages: " + std::to_string(data_frames_) + " data frames (" +
         std::to_string(sealed_bytes_) + " bytes sealed, none opened: this tool holds no key), " +
         std::to_string(control_frames_) + " control frames, " + std::to_string(other_frames_) +
         " other.\nKeys: " + std::to_string(keys_requested_) + " requested, " +
         std::to_string(keys_offered_) + " offered, " + std::to_string(reply_keys_) +
         " reply keys; data sealed to " + std::to_string(data_keys_.size()) + " distinct keys; " +
         std::to_string(acks_) + " acknowledgements, " + std::to_string(rejections_) +
         " rejections.\nInstances seen: " + std::to_string(instances_.size()) +
         (instances.empty() ? "" : " (" + instances.substr(1) + ")") + ".\n";
}

}  // namespace cryptcom::tool
