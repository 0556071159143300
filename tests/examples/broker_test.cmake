# Runs examples/broker in one mode and checks what it promises (README, "Authenticated mode"):
#   cmake -DBROKER=path -DTOOL=path -DWORK=dir -DMODE=honest|malicious -DAUTH=ON|OFF -P this
# With AUTH the identities are made first with `cryptcom keygen` (TOOL), as a user makes them.
#  - honest, either mode: nothing of the plaintext in the broker's capture, every request answered
#    once;
#  - malicious, base mode: the broker read at least one request (what authenticated mode is for),
#    and nothing was delivered twice;
#  - malicious, authenticated mode: the broker read nothing, its forged frames were dropped as
#    unauthenticated by the client, and every request was answered once or reported
#    undeliverable (none lost unreported), none twice.
# Bounded: the example ends within 10 s by its own design; TIMEOUT kills it at 30 s.
cmake_minimum_required(VERSION 3.20)

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(args --count 5)
if(MODE STREQUAL "malicious")
  list(APPEND args --malicious)
endif()
if(AUTH)
  foreach(name alice server)
    execute_process(COMMAND "${TOOL}" keygen ${name} WORKING_DIRECTORY "${WORK}"
                    RESULT_VARIABLE rc OUTPUT_QUIET TIMEOUT 30)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "cryptcom keygen ${name} failed: ${rc}")
    endif()
  endforeach()
  list(APPEND args --identity alice_secret --server-identity server_secret)
endif()

execute_process(COMMAND "${BROKER}" ${args} WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "broker ${args} exited with ${rc}")
endif()

string(CONCAT result_re
       "result: the broker read ([0-9]+) plaintext request\\(s\\); ([0-9]+) of ([0-9]+) "
       "answered, ([0-9]+) reported undeliverable, ([0-9]+) lost without a report, "
       "([0-9]+) delivered twice")
if(NOT out MATCHES "${result_re}")
  message(FATAL_ERROR "no result line in the output")
endif()
set(read ${CMAKE_MATCH_1})
set(answered ${CMAKE_MATCH_2})
set(total ${CMAKE_MATCH_3})
set(reported ${CMAKE_MATCH_4})
set(lost ${CMAKE_MATCH_5})
set(twice ${CMAKE_MATCH_6})

function(expect what)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "expected ${what}")
  endif()
endfunction()

expect("5 requests" total EQUAL 5)
expect("nothing delivered twice (${twice})" twice EQUAL 0)
if(MODE STREQUAL "honest")
  expect("no plaintext in the capture (${read})" read EQUAL 0)
  expect("every request answered (${answered})" answered EQUAL total)
  expect("the capture checked" out MATCHES "in the broker's capture: none")
elseif(NOT AUTH)
  expect("the malicious broker to read a request in base mode (${read})" read GREATER 0)
else()
  expect("the malicious broker to read nothing in authenticated mode (${read})" read EQUAL 0)
  expect("no request lost unreported (${lost})" lost EQUAL 0)
  math(EXPR accounted "${answered} + ${reported}")
  expect("every request answered or reported (${accounted})" accounted EQUAL total)
  # The broker did try: the client dropped its frames for their MACs.
  expect("the broker to have forged offers" out MATCHES "replaced the [0-9]+ keys the worker")
  if(NOT out MATCHES "client: frames dropped [0-9]+ \\(unauthenticated ([0-9]+)")
    message(FATAL_ERROR "no client counters in the output")
  endif()
  expect("forged frames dropped unauthenticated (${CMAKE_MATCH_1})" CMAKE_MATCH_1 GREATER 0)
endif()
