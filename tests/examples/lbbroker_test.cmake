# Runs examples/lbbroker as a user runs it and checks what it promises (README, "Worker pools
# behind a broker"):
#   cmake -DLBBROKER=path -DWORK=dir -DMODE=all|processes -P this
#  - all: the broker, 3 workers and 4 clients in one process; every request answered once with
#    its own answer, by more than one worker, and no plaintext in the broker's capture;
#  - processes: the broker, two workers and a client as four processes on ipc endpoints in /tmp
#    (started together as one pipeline; the broker and the workers stop after a few seconds):
#    every request of the client answered once, by both workers.
# Bounded: each program ends within 10 s by its own design; TIMEOUT kills it at 30 s.
cmake_minimum_required(VERSION 3.20)

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

function(expect what)
  if(NOT (${ARGN}))
    message(FATAL_ERROR "expected ${what}")
  endif()
endfunction()

if(MODE STREQUAL "all")
  execute_process(COMMAND "${LBBROKER}" all --clients 4 --workers 3 --requests 25
                  WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 30)
  message("${out}${err}")
  expect("exit status 0 (got ${rc})" rc EQUAL 0)
  string(CONCAT result_re
         "result: ([0-9]+) of ([0-9]+) answered, ([0-9]+) reported undeliverable, ([0-9]+) lost "
         "without a report, ([0-9]+) wrong, ([0-9]+) answered twice, ([0-9]+) plaintext in the "
         "capture")
  if(NOT out MATCHES "${result_re}")
    message(FATAL_ERROR "no result line in the output")
  endif()
  expect("100 requests (${CMAKE_MATCH_2})" CMAKE_MATCH_2 EQUAL 100)
  expect("all answered (${CMAKE_MATCH_1})" CMAKE_MATCH_1 EQUAL 100)
  expect("none lost (${CMAKE_MATCH_4})" CMAKE_MATCH_4 EQUAL 0)
  expect("no wrong answer (${CMAKE_MATCH_5})" CMAKE_MATCH_5 EQUAL 0)
  expect("none answered twice (${CMAKE_MATCH_6})" CMAKE_MATCH_6 EQUAL 0)
  expect("no plaintext in the capture (${CMAKE_MATCH_7})" CMAKE_MATCH_7 EQUAL 0)
  expect("the capture checked" out MATCHES "plaintext of any request or reply in them: none")
  # The load was spread: each worker answered some.
  if(NOT out MATCHES "what each worker answered: worker-1 ([0-9]+) worker-2 ([0-9]+) worker-3 ([0-9]+)")
    message(FATAL_ERROR "no per-worker line in the output")
  endif()
  foreach(n ${CMAKE_MATCH_1} ${CMAKE_MATCH_2} ${CMAKE_MATCH_3})
    expect("every worker to answer some requests (${n})" n GREATER 0)
  endforeach()
  expect("broker counters" out MATCHES "refused: unknown key 0, forged issuer 0, unknown worker 0")
else()
  # ipc endpoints in /tmp (as every test's), unique to this run.
  string(RANDOM LENGTH 10 tag)
  set(front "ipc:///tmp/cryptcom-lbbroker-${tag}-front")
  set(back "ipc:///tmp/cryptcom-lbbroker-${tag}-back")
  # execute_process runs its COMMANDs at once, as a pipeline (each one's stdout into the next
  # one's stdin, which none reads): the broker and two workers, then the client, whose output is
  # what OUTPUT_VARIABLE gets.
  execute_process(
    COMMAND "${LBBROKER}" broker --frontend "${front}" --backend "${back}" --seconds 6
    COMMAND "${LBBROKER}" worker --backend "${back}" --name alpha --seconds 6
    COMMAND "${LBBROKER}" worker --backend "${back}" --name beta --seconds 6
    COMMAND "${LBBROKER}" client --frontend "${front}" --requests 40 --name shop --workers 2
    WORKING_DIRECTORY "${WORK}" RESULTS_VARIABLE rcs OUTPUT_VARIABLE out ERROR_VARIABLE err
    TIMEOUT 30)
  message("${out}${err}")
  file(REMOVE "/tmp/cryptcom-lbbroker-${tag}-front" "/tmp/cryptcom-lbbroker-${tag}-back")
  if(NOT rcs STREQUAL "0;0;0;0")
    message(FATAL_ERROR "expected every process to exit 0 (broker, workers, client: ${rcs})")
  endif()
  if(NOT out MATCHES "result: ([0-9]+) of ([0-9]+) answered, ([0-9]+) reported undeliverable, ([0-9]+) wrong, ([0-9]+) answered twice")
    message(FATAL_ERROR "no result line in the client's output")
  endif()
  expect("40 requests answered (${CMAKE_MATCH_1} of ${CMAKE_MATCH_2})"
         CMAKE_MATCH_1 EQUAL 40 AND CMAKE_MATCH_2 EQUAL 40)
  expect("none answered twice" CMAKE_MATCH_5 EQUAL 0)
  expect("both workers to answer" out MATCHES "by alpha [0-9]+, beta [0-9]+")
endif()
