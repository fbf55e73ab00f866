# Runs one compile-failure test (cmake -P). Passes only when compiling SOURCE fails AND the compiler's
# output matches EXPECT (with FIRST_ERROR=ON: the first error line must match it, so that our own
# diagnostic comes before any other). Otherwise it prints the compiler's output and stops with
# SNIPPET-COMPILED, WRONG-DIAGNOSTIC or NOT-FIRST-ERROR; the harness's self-checks look for these.
#
#   cmake -DPARAMS=<file> -P run_compile_fail.cmake
#
# PARAMS (written by oneshot_add_compile_fail_test) sets COMPILER, COMPILER_ID, SOURCE, EXPECT,
# FIRST_ERROR, and the arguments: BASE_ARGS (CMAKE_CXX_FLAGS and the C++20 flag), TARGET_ARGS (what
# oneshot::oneshot adds: include directories, definitions, options) and FLAGS (the test's own).
cmake_minimum_required(VERSION 3.25)

if(NOT PARAMS OR NOT EXISTS "${PARAMS}")
  message(FATAL_ERROR "oneshot compile-fail harness: no parameter file (-DPARAMS=<file>)")
endif()
include("${PARAMS}")
foreach(var COMPILER SOURCE EXPECT)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "oneshot compile-fail harness: ${PARAMS} does not set ${var}")
  endif()
endforeach()

set(args ${BASE_ARGS} ${TARGET_ARGS} ${FLAGS})
list(FILTER args EXCLUDE REGEX "^$")
# Syntax only (templates are still instantiated), plain ASCII diagnostics without colours.
if(COMPILER_ID STREQUAL "MSVC")
  set(syntax_only /Zs /nologo)
  set(plain "")
else()
  set(syntax_only -fsyntax-only)
  set(plain -fno-diagnostics-color)
endif()
set(ENV{LC_ALL} C)

execute_process(
  COMMAND "${COMPILER}" ${syntax_only} ${args} ${plain} "${SOURCE}"
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

list(JOIN args " " shown_args)
set(report "compiler: ${COMPILER} ${syntax_only} ${shown_args} ${plain} ${SOURCE}\n--- compiler output ---\n${output}---")

# Reports the details unformatted, then stops with a one-word reason (which the self-checks match).
function(fail reason detail)
  message(NOTICE "${detail}\n${report}")
  message(FATAL_ERROR "oneshot compile-fail harness: ${reason}")
endfunction()

if(result EQUAL 0)
  fail(SNIPPET-COMPILED "The snippet compiled without error, but it must fail with /${EXPECT}/.")
endif()

if(FIRST_ERROR)
  # GCC and Clang: "file:line:col: error: ..."; MSVC: "file(line): error C1234: ...".
  string(REGEX MATCH "[^\n]*: (fatal )?error( [A-Z]+[0-9]+)?:[^\n]*" first_error "${output}")
  if(NOT first_error MATCHES "${EXPECT}")
    fail(NOT-FIRST-ERROR "The snippet failed to compile, but its first error is not /${EXPECT}/:\n"
                         "  ${first_error}")
  endif()
elseif(NOT output MATCHES "${EXPECT}")
  fail(WRONG-DIAGNOSTIC "The snippet failed to compile, but not with /${EXPECT}/.")
endif()
message(STATUS "oneshot compile-fail harness: failed to compile as expected, with /${EXPECT}/")
