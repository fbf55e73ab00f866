# Death-test driver: runs `COMMAND MODE` and passes only if the process aborts (on POSIX: CMake
# reports "Subprocess aborted" for SIGABRT; elsewhere: any failure exit code) and its stderr matches
# the regex EXPECT. A missing or unlaunchable executable fails the test.
# Usage: cmake -DCOMMAND=<exe> -DMODE=<mode> -DEXPECT=<regex> -P expect_death.cmake
execute_process(COMMAND "${COMMAND}" "${MODE}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT EXISTS "${COMMAND}")
  message(FATAL_ERROR "'${COMMAND}' does not exist (not built?)")
endif()
if(result STREQUAL "0")
  message(FATAL_ERROR "'${MODE}' exited normally; expected it to abort.\nstderr: ${err}")
endif()
if(UNIX AND NOT result STREQUAL "Subprocess aborted")
  message(FATAL_ERROR "'${MODE}' ended with '${result}'; expected abort.\nstderr: ${err}")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "'${MODE}' died (${result}) but stderr does not match '${EXPECT}':\n${err}")
endif()
message(STATUS "'${MODE}' died as expected (${result}): ${err}")
