# The bench_quick_json test: `cryptcom_bench --quick --json OUT`, then the checker on OUT.
# Called as cmake -DBENCH=... -DCHECK=... -DOUT=... -P run_quick_json.cmake
foreach(var BENCH CHECK OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_quick_json.cmake needs -D${var}=...")
  endif()
endforeach()

file(REMOVE ${OUT})
execute_process(COMMAND ${BENCH} --quick --json ${OUT} RESULT_VARIABLE bench_result TIMEOUT 150)
if(NOT bench_result EQUAL 0)
  message(FATAL_ERROR "cryptcom_bench --quick failed: ${bench_result}")
endif()
execute_process(COMMAND ${CHECK} ${OUT} RESULT_VARIABLE check_result)
if(NOT check_result EQUAL 0)
  message(FATAL_ERROR "${OUT} did not pass the checker")
endif()
