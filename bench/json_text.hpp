// The two pieces of JSON text the report needs, written by hand to add no dependency.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace cryptcom::bench {

// Appends `text` as a JSON string literal, quotes included: '"' and '\' escaped, control
// characters as \uXXXX (or \n, \t, ...), valid UTF-8 kept as is, and every byte that is not part
// of valid UTF-8 replaced by U+FFFD so that the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

// Appends `value` in the shortest form that reads back exactly; null when it is not finite,
// since JSON has no NaN or infinity.
void append_json_number(std::string& out, double value);

}  // namespace cryptcom::bench
