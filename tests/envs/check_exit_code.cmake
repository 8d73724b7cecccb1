# Runs EXE with ARGS (a ;-list) and fails unless its exit status is EXPECTED.
#   cmake -DEXE=... -DEXPECTED=2 "-DARGS=--bogus" -P check_exit_code.cmake
execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status STREQUAL "${EXPECTED}")
  message(FATAL_ERROR "${EXE} ${ARGS}: exit status ${status}, expected ${EXPECTED}\n${out}${err}")
endif()
if(NOT EXPECTED STREQUAL "0")
  # A failure says what went wrong in one line on stderr.
  string(STRIP "${err}" err)
  if(err STREQUAL "" OR err MATCHES "\n")
    message(FATAL_ERROR "expected a one-line error message, got:\n${err}")
  endif()
endif()
message(STATUS "exit status ${status} as expected: ${err}")
