# Death-test driver: runs `COMMAND MODE` and passes only if the process does not exit normally
# (on POSIX: it is killed by a signal, i.e. abort) and its stderr matches the regex EXPECT.
# Usage: cmake -DCOMMAND=<exe> -DMODE=<mode> -DEXPECT=<regex> -P expect_death.cmake
execute_process(COMMAND "${COMMAND}" "${MODE}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(result STREQUAL "0")
  message(FATAL_ERROR "'${MODE}' exited normally; expected it to abort.\nstderr: ${err}")
endif()
if(UNIX AND result MATCHES "^[0-9]+$")
  message(FATAL_ERROR "'${MODE}' exited with code ${result}; expected abort.\nstderr: ${err}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "'${MODE}' died (${result}) but stderr does not match '${EXPECT}':\n${err}")
endif()
message(STATUS "'${MODE}' died as expected (${result}): ${err}")
