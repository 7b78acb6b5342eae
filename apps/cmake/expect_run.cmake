# expect_run.cmake - run a command and check its exit code and output.
#
# cmake -DCMD=<;-list> -DEXPECT_RC=<int> [-DEXPECT_REGEX=<regex>]
#       [-DREJECT_REGEX=<regex>] [-DINPUT=<file>] -P expect_run.cmake
# The regexes are matched against stdout and stderr together. Used by the app
# tests where ctest alone cannot check an exact exit status and the output at
# once (PASS_REGULAR_EXPRESSION ignores the exit status).
if(NOT DEFINED CMD OR NOT DEFINED EXPECT_RC)
  message(FATAL_ERROR "expect_run.cmake: CMD and EXPECT_RC are required")
endif()
set(input_args)
if(INPUT)
  set(input_args INPUT_FILE ${INPUT})
endif()
execute_process(COMMAND ${CMD} ${input_args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "exit status '${rc}', expected ${EXPECT_RC}")
endif()
if(EXPECT_REGEX AND NOT "${out}${err}" MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "output does not match '${EXPECT_REGEX}'")
endif()
if(REJECT_REGEX AND "${out}${err}" MATCHES "${REJECT_REGEX}")
  message(FATAL_ERROR "output matches '${REJECT_REGEX}'")
endif()
