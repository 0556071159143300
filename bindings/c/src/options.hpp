// cryptcom's own options in the C API: the CRYPTCOM_* numbers of cryptcom.h mapped onto
// cryptcom::zmq::socket_options, with their C types (int, int64_t milliseconds, uint64_t counts)
// and their checks. One table serves the options object and cryptcom_getsockopt.
// Thread-safety: pure functions over a constant table.
#pragma once

#include <cstddef>

#include "cryptcom.h"
#include "cryptcom/zmq/socket_options.hpp"

namespace cryptcom::c_api {

// Whether `option` is one of the CRYPTCOM_* construction options.
bool is_own_option(int option) noexcept;

// Throw api_error: EINVAL for an unknown option, a wrong size or a value out of range, EFAULT for
// a NULL pointer where a value is needed.
void set_own_option(zmq::socket_options& options, int option, const void* value, std::size_t size);
void get_own_option(const zmq::socket_options& options, int option, void* value, std::size_t* size);

// The options an options object holds; throws api_error (EFAULT) for NULL or a destroyed object.
const zmq::socket_options& options_of(const cryptcom_options_t* options);

}  // namespace cryptcom::c_api
