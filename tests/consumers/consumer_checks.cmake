# Shared by the consumer projects: the app target and the checks every install route must pass.
include_guard(GLOBAL)

set(_oneshot_consumer_main "${CMAKE_CURRENT_LIST_DIR}/main.cpp")

# oneshot_consumer_app(): the consumer's only program, run by its own ctest. The consumer never sets
# CMAKE_CXX_STANDARD or include paths: C++20, the headers and Threads must all come from the
# oneshot::oneshot usage requirements.
function(oneshot_consumer_app)
  if(NOT TARGET oneshot::oneshot)
    message(FATAL_ERROR "oneshot::oneshot is not defined")
  endif()
  get_target_property(features oneshot::oneshot INTERFACE_COMPILE_FEATURES)
  if(NOT "cxx_std_20" IN_LIST features)
    message(FATAL_ERROR "oneshot::oneshot does not require cxx_std_20 (features: ${features})")
  endif()
  add_executable(app "${_oneshot_consumer_main}")
  target_link_libraries(app PRIVATE oneshot::oneshot)
  add_test(NAME app COMMAND app)
endfunction()

# oneshot_assert_no_dev_targets(<oneshot source dir>): a oneshot added as a subproject (FetchContent
# or add_subdirectory) defines the library target and nothing else: no tests, benchmarks, examples,
# helper targets or ctest entries.
function(oneshot_assert_no_dev_targets dir)
  foreach(option ONESHOT_BUILD_TESTS ONESHOT_BUILD_BENCHMARKS ONESHOT_BUILD_EXAMPLES)
    if(${option})
      message(FATAL_ERROR "${option} is ON in a subproject build")
    endif()
  endforeach()
  foreach(target oneshot_catch_main oneshot_warnings oneshot_bench oneshot_bench_report)
    if(TARGET ${target})
      message(FATAL_ERROR "the subproject defines the development target ${target}")
    endif()
  endforeach()
  set(pending "${dir}")
  while(pending)
    list(POP_FRONT pending current)
    get_property(targets DIRECTORY "${current}" PROPERTY BUILDSYSTEM_TARGETS)
    get_property(tests DIRECTORY "${current}" PROPERTY TESTS)
    get_property(subdirs DIRECTORY "${current}" PROPERTY SUBDIRECTORIES)
    list(REMOVE_ITEM targets oneshot)
    if(targets)
      message(FATAL_ERROR "the subproject defines targets besides oneshot in ${current}: ${targets}")
    endif()
    if(tests)
      message(FATAL_ERROR "the subproject registers ctest entries in ${current}: ${tests}")
    endif()
    list(APPEND pending ${subdirs})
  endwhile()
  message(STATUS "oneshot subproject at ${dir}: only the oneshot target, no tests")
endfunction()
