# Drives one consumer test: `cmake -D... -P run_consumer.cmake`, registered by CMakeLists.txt here.
#
#   MODE                install       configure + install oneshot into a temporary prefix, then build
#                                     and run the find_package consumer against it
#                       fetchcontent  build and run the FetchContent consumer (SOURCE_DIR = checkout)
#                       subdirectory  build and run the add_subdirectory consumer
#                       vcpkg         configure and install exactly as ports/oneshot/portfile.cmake
#                                     does into a staging prefix, check the layout vcpkg requires,
#                                     move the tree (packages -> installed) and build the consumer
#                       pkgconfig     query the tree staged by `vcpkg` with pkg-config, compile with
#                                     its flags (prints ONESHOT_SKIP when pkg-config is missing,
#                                     and with MSVC)
#   ONESHOT_SOURCE_DIR  the checkout under test
#   CONSUMERS_DIR       this directory
#   WORK_DIR            scratch directory of the test (wiped first, except by `pkgconfig`)
#   EXPECTED_VERSION    the version project() declares
#   PORTFILE            ports/oneshot/portfile.cmake
#   CTEST_COMMAND       ctest of the outer build
#   GENERATOR GENERATOR_PLATFORM GENERATOR_TOOLSET MAKE_PROGRAM CXX_COMPILER CXX_COMPILER_ID
#   CXX_FRONTEND CXX_FLAGS EXE_LINKER_FLAGS BUILD_TYPE
#                       the outer build's toolchain, so every consumer is built the same way (a
#                       -stdlib=libc++ or sanitizer build stays consistent)
#
# Nothing here needs the network.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE ONESHOT_SOURCE_DIR CONSUMERS_DIR WORK_DIR EXPECTED_VERSION GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

# ---------------------------------------------------------------------------------------------------
# Helpers

# oneshot_run(COMMAND <argv>... [OUTPUT_VARIABLE <var>]): run a command, echo it and its output, and
# stop the test if it fails.
function(oneshot_run)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUTPUT_VARIABLE;WORKING_DIRECTORY" "COMMAND")
  if(NOT arg_WORKING_DIRECTORY)
    set(arg_WORKING_DIRECTORY "${WORK_DIR}")
  endif()
  list(JOIN arg_COMMAND "' '" pretty)
  message(STATUS "running: '${pretty}'")
  execute_process(COMMAND ${arg_COMMAND}
    WORKING_DIRECTORY "${arg_WORKING_DIRECTORY}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): '${pretty}'")
  endif()
  if(arg_OUTPUT_VARIABLE)
    set(${arg_OUTPUT_VARIABLE} "${out}" PARENT_SCOPE)
  endif()
endfunction()

function(oneshot_fail)
  string(JOIN "" text ${ARGN})
  message(FATAL_ERROR "${MODE}: ${text}")
endfunction()

# The outer build's generator and toolchain, for every configure below.
set(generator_args -G "${GENERATOR}")
if(GENERATOR_PLATFORM)
  list(APPEND generator_args -A "${GENERATOR_PLATFORM}")
endif()
if(GENERATOR_TOOLSET)
  list(APPEND generator_args -T "${GENERATOR_TOOLSET}")
endif()
if(MAKE_PROGRAM AND GENERATOR MATCHES "Ninja|Makefiles")
  list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER AND NOT GENERATOR MATCHES "Visual Studio|Xcode")
  list(APPEND generator_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
list(APPEND generator_args
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}"
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

# One configuration for everything: the outer one, else Debug.
if(BUILD_TYPE)
  set(config "${BUILD_TYPE}")
else()
  set(config Debug)
endif()
if(GENERATOR MATCHES "Visual Studio|Xcode|Multi-Config")
  set(config_args "-DCMAKE_CONFIGURATION_TYPES=${config}")
else()
  set(config_args "-DCMAKE_BUILD_TYPE=${config}")
endif()

if(NOT CTEST_COMMAND)
  cmake_path(GET CMAKE_COMMAND PARENT_PATH cmake_bin)
  find_program(CTEST_COMMAND ctest HINTS "${cmake_bin}" REQUIRED)
endif()

# oneshot_consumer(<name> <source dir> [-D...]...): configure, build and ctest a consumer project,
# which must register exactly one test (its app) and pass it.
function(oneshot_consumer name source_dir)
  set(build "${WORK_DIR}/${name}-build")
  oneshot_run(COMMAND "${CMAKE_COMMAND}" -S "${source_dir}" -B "${build}"
    ${generator_args} ${config_args} ${ARGN})
  oneshot_run(COMMAND "${CMAKE_COMMAND}" --build "${build}" --config "${config}")
  oneshot_run(COMMAND "${CTEST_COMMAND}" --test-dir "${build}" -C "${config}" --output-on-failure
                      --no-tests=error
              OUTPUT_VARIABLE out)
  if(NOT out MATCHES "0 tests failed out of 1[\r\n]")
    oneshot_fail("the consumer ${name} must run exactly one test (its app), and pass it")
  endif()
  message(STATUS "consumer ${name}: built and ran against oneshot")
endfunction()

# oneshot_check_headers(<prefix>): every header of include/ is installed, unchanged, and nothing else.
function(oneshot_check_headers prefix)
  file(GLOB_RECURSE expected RELATIVE "${ONESHOT_SOURCE_DIR}/include" "${ONESHOT_SOURCE_DIR}/include/*.hpp")
  file(GLOB_RECURSE installed RELATIVE "${prefix}/include" "${prefix}/include/*")
  list(SORT expected)
  list(SORT installed)
  if(NOT expected STREQUAL installed)
    oneshot_fail("installed headers differ from include/:\n  expected ${expected}\n  installed ${installed}")
  endif()
  foreach(header IN LISTS expected)
    file(SHA256 "${ONESHOT_SOURCE_DIR}/include/${header}" a)
    file(SHA256 "${prefix}/include/${header}" b)
    if(NOT a STREQUAL b)
      oneshot_fail("installed ${header} differs from the source")
    endif()
  endforeach()
  list(LENGTH expected n)
  message(STATUS "${n} headers installed under ${prefix}/include")
endfunction()

# oneshot_check_no_path(<dir> <path>): no installed text file mentions <path> (the tree must stay
# usable after it is moved).
function(oneshot_check_no_path dir path)
  file(GLOB_RECURSE files "${dir}/share/*")
  foreach(f IN LISTS files)
    file(READ "${f}" text)
    string(FIND "${text}" "${path}" at)
    if(at GREATER -1)
      oneshot_fail("${f} contains the absolute path ${path}; the installed tree is not relocatable")
    endif()
  endforeach()
endfunction()

# The configure options the portfile passes to vcpkg_cmake_configure, read from the portfile itself so
# this test cannot drift from it; plus the config path and licence files it names.
function(oneshot_read_portfile)
  if(NOT EXISTS "${PORTFILE}")
    oneshot_fail("no portfile at '${PORTFILE}'")
  endif()
  file(READ "${PORTFILE}" text)
  string(REGEX REPLACE "#[^\n]*" "" text "${text}") # comments
  if(NOT text MATCHES "set\\(VCPKG_BUILD_TYPE release\\)")
    oneshot_fail("the portfile should set(VCPKG_BUILD_TYPE release): the port is header-only")
  endif()
  if(NOT text MATCHES "vcpkg_cmake_configure\\(([^)]*)\\)")
    oneshot_fail("no vcpkg_cmake_configure() in the portfile")
  endif()
  string(REGEX MATCHALL "-D[A-Za-z0-9_]+(:[A-Z]+)?=[^ \t\r\n\")]*" options "${CMAKE_MATCH_1}")
  foreach(required -DONESHOT_BUILD_TESTS=OFF -DONESHOT_BUILD_BENCHMARKS=OFF -DONESHOT_BUILD_EXAMPLES=OFF)
    if(NOT required IN_LIST options)
      oneshot_fail("the portfile's vcpkg_cmake_configure() lacks ${required} (has: ${options})")
    endif()
  endforeach()
  if(NOT text MATCHES "vcpkg_cmake_config_fixup\\([^)]*CONFIG_PATH[ \t\r\n]+\"?([^ \t\r\n\")]+)")
    oneshot_fail("no vcpkg_cmake_config_fixup(CONFIG_PATH ...) in the portfile")
  endif()
  set(config_path "${CMAKE_MATCH_1}")
  if(NOT text MATCHES "vcpkg_install_copyright\\(([^)]*)\\)")
    oneshot_fail("no vcpkg_install_copyright() in the portfile")
  endif()
  string(REGEX MATCHALL "\\\${SOURCE_PATH}/[^ \t\r\n\")]+" licences "${CMAKE_MATCH_1}")
  list(TRANSFORM licences REPLACE "^\\\${SOURCE_PATH}/" "")
  if(NOT licences)
    oneshot_fail("vcpkg_install_copyright() names no licence file")
  endif()
  foreach(licence IN LISTS licences)
    if(NOT EXISTS "${ONESHOT_SOURCE_DIR}/${licence}")
      oneshot_fail("the portfile installs ${licence} as copyright, but the checkout has no such file")
    endif()
  endforeach()
  cmake_path(GET PORTFILE PARENT_PATH port_dir)
  foreach(file vcpkg.json usage)
    if(NOT EXISTS "${port_dir}/${file}")
      oneshot_fail("the port has no ${file}")
    endif()
  endforeach()
  file(READ "${port_dir}/vcpkg.json" manifest)
  string(JSON port_version GET "${manifest}" version)
  if(NOT port_version STREQUAL EXPECTED_VERSION)
    oneshot_fail("ports/oneshot/vcpkg.json says version ${port_version}, the project is ${EXPECTED_VERSION}")
  endif()
  set(port_options "${options}" PARENT_SCOPE)
  set(port_config_path "${config_path}" PARENT_SCOPE)
  message(STATUS "portfile: options ${options}; config path ${config_path}; licences ${licences}")
endfunction()

# ---------------------------------------------------------------------------------------------------
# Modes

if(NOT MODE STREQUAL "pkgconfig")
  file(REMOVE_RECURSE "${WORK_DIR}")
  file(MAKE_DIRECTORY "${WORK_DIR}")
endif()

if(MODE STREQUAL "install")
  # Configured for one prefix, installed into another: the package must not care.
  set(prefix "${WORK_DIR}/prefix")
  set(configured_prefix "${WORK_DIR}/configured-prefix-never-used")
  set(build "${WORK_DIR}/oneshot-build")
  oneshot_run(COMMAND "${CMAKE_COMMAND}" -S "${ONESHOT_SOURCE_DIR}" -B "${build}"
    ${generator_args} ${config_args}
    "-DCMAKE_INSTALL_PREFIX=${configured_prefix}"
    -DONESHOT_BUILD_TESTS=OFF -DONESHOT_BUILD_BENCHMARKS=OFF -DONESHOT_BUILD_EXAMPLES=OFF)
  oneshot_run(COMMAND "${CMAKE_COMMAND}" --build "${build}" --config "${config}")
  oneshot_run(COMMAND "${CMAKE_COMMAND}" --install "${build}" --config "${config}" --prefix "${prefix}")
  oneshot_check_headers("${prefix}")
  oneshot_check_no_path("${prefix}" "${configured_prefix}")
  oneshot_consumer(find_package "${CONSUMERS_DIR}/find_package"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DONESHOT_EXPECTED_PREFIX=${prefix}"
    "-DONESHOT_EXPECTED_VERSION=${EXPECTED_VERSION}")

elseif(MODE STREQUAL "fetchcontent")
  oneshot_consumer(fetchcontent "${CONSUMERS_DIR}/fetchcontent"
    "-DONESHOT_SOURCE_DIR=${ONESHOT_SOURCE_DIR}"
    -DFETCHCONTENT_QUIET=OFF)

elseif(MODE STREQUAL "subdirectory")
  oneshot_consumer(subdirectory "${CONSUMERS_DIR}/subdirectory"
    "-DONESHOT_SOURCE_DIR=${ONESHOT_SOURCE_DIR}")

elseif(MODE STREQUAL "vcpkg")
  oneshot_read_portfile()
  # What vcpkg_cmake_configure/vcpkg_cmake_install do for a release-only (header-only) port: a Release
  # configure with the install prefix at packages/<port>_<triplet>, the portfile's options, and
  # `cmake --build --target install`.
  set(staging "${WORK_DIR}/packages/oneshot_staging")
  set(installed "${WORK_DIR}/installed")
  set(build "${WORK_DIR}/buildtrees/oneshot/rel")
  set(vcpkg_args
    -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_INSTALL_PREFIX=${staging}"
    -DCMAKE_INSTALL_LIBDIR:STRING=lib
    -DCMAKE_INSTALL_BINDIR:STRING=bin
    -DFETCHCONTENT_FULLY_DISCONNECTED=ON
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
    -DCMAKE_INSTALL_SYSTEM_RUNTIME_LIBS_SKIP=TRUE)
  set(release_args ${generator_args})
  if(GENERATOR MATCHES "Visual Studio|Xcode|Multi-Config")
    list(APPEND release_args -DCMAKE_CONFIGURATION_TYPES=Release)
  endif()
  oneshot_run(COMMAND "${CMAKE_COMMAND}" -S "${ONESHOT_SOURCE_DIR}" -B "${build}"
                      ${release_args} ${vcpkg_args} ${port_options}
              OUTPUT_VARIABLE out)
  # CMake lists the -D options a project never reads; the portfile's must all be read.
  string(FIND "${out}" "Manually-specified variables were not used by the project:" at)
  if(at GREATER -1)
    string(SUBSTRING "${out}" ${at} -1 unused)
    string(REGEX REPLACE "\n[ \t]*\n[^ \t].*$" "" unused "${unused}") # up to the end of the list
    foreach(option IN LISTS port_options)
      string(REGEX REPLACE "^-D([A-Za-z0-9_]+).*$" "\\1" name "${option}")
      if(unused MATCHES "[ \t]${name}[\r\n]")
        oneshot_fail("the project ignores the portfile's option ${name}")
      endif()
    endforeach()
  endif()
  oneshot_run(COMMAND "${CMAKE_COMMAND}" --build "${build}" --config Release --target install)

  # The layout vcpkg's post-build checks expect of a header-only CMake port.
  foreach(file
      include/oneshot/oneshot.hpp
      include/oneshot/version.hpp
      ${port_config_path}/oneshotConfig.cmake
      ${port_config_path}/oneshotConfigVersion.cmake
      ${port_config_path}/oneshotTargets.cmake
      share/pkgconfig/oneshot.pc)
    if(NOT EXISTS "${staging}/${file}")
      oneshot_fail("the staged install lacks ${file}")
    endif()
  endforeach()
  if(NOT port_config_path STREQUAL "share/oneshot")
    oneshot_fail("vcpkg wants the CMake package in share/oneshot, the portfile says ${port_config_path}")
  endif()
  file(GLOB top RELATIVE "${staging}" "${staging}/*")
  list(SORT top)
  if(NOT top STREQUAL "include;share")
    oneshot_fail("a header-only port installs only include/ and share/, found: ${top} "
                 "(nothing may go under lib/ or bin/)")
  endif()
  file(GLOB share RELATIVE "${staging}/share" "${staging}/share/*")
  list(SORT share)
  if(NOT share STREQUAL "oneshot;pkgconfig")
    oneshot_fail("unexpected entries under share/: ${share}")
  endif()
  # ARCH_INDEPENDENT: a 32-bit consumer accepts the package too.
  block(SCOPE_FOR VARIABLES)
    set(CMAKE_SIZEOF_VOID_P 4)
    set(PACKAGE_FIND_VERSION "${EXPECTED_VERSION}")
    string(REGEX MATCH "^[0-9]+" PACKAGE_FIND_VERSION_MAJOR "${EXPECTED_VERSION}")
    include("${staging}/${port_config_path}/oneshotConfigVersion.cmake")
    if(PACKAGE_VERSION_UNSUITABLE OR NOT PACKAGE_VERSION_COMPATIBLE)
      oneshot_fail("oneshotConfigVersion.cmake rejects a consumer with another pointer size; "
                   "a header-only package must be ARCH_INDEPENDENT")
    endif()
  endblock()
  oneshot_check_headers("${staging}")
  oneshot_check_no_path("${staging}" "${staging}")

  # vcpkg moves packages/<port> into installed/<triplet>; the build tree is gone by then. Do the
  # same, so any absolute path left in the package would break the consumer.
  file(COPY "${staging}/" DESTINATION "${installed}")
  file(REMOVE_RECURSE "${WORK_DIR}/packages" "${WORK_DIR}/buildtrees")
  oneshot_consumer(find_package "${CONSUMERS_DIR}/find_package"
    "-DCMAKE_PREFIX_PATH=${installed}"
    "-DONESHOT_EXPECTED_PREFIX=${installed}"
    "-DONESHOT_EXPECTED_VERSION=${EXPECTED_VERSION}")

elseif(MODE STREQUAL "pkgconfig")
  set(installed "${WORK_DIR}/installed")
  if(NOT EXISTS "${installed}/share/pkgconfig/oneshot.pc")
    oneshot_fail("no staged tree at ${installed}; the consumer_vcpkg_staging test sets it up")
  endif()
  if(CXX_COMPILER_ID STREQUAL "MSVC" OR CXX_FRONTEND STREQUAL "MSVC")
    # MSVC users consume the CMake package; a pkg-config on their PATH (Strawberry Perl's, say) is
    # not theirs to build with.
    message("ONESHOT_SKIP: pkg-config is not an MSVC consumption route")
    return()
  endif()
  find_program(PKG_CONFIG NAMES pkg-config pkgconf)
  if(NOT PKG_CONFIG)
    message("ONESHOT_SKIP: pkg-config is not installed")
    return()
  endif()
  set(ENV{PKG_CONFIG_PATH} "${installed}/share/pkgconfig")
  unset(ENV{PKG_CONFIG_LIBDIR})
  unset(ENV{PKG_CONFIG_SYSROOT_DIR})

  oneshot_run(COMMAND "${PKG_CONFIG}" --modversion oneshot OUTPUT_VARIABLE version)
  string(STRIP "${version}" version)
  if(NOT version STREQUAL EXPECTED_VERSION)
    oneshot_fail("pkg-config --modversion oneshot says '${version}', expected ${EXPECTED_VERSION}")
  endif()
  oneshot_run(COMMAND "${PKG_CONFIG}" --cflags oneshot OUTPUT_VARIABLE cflags)
  oneshot_run(COMMAND "${PKG_CONFIG}" --libs oneshot OUTPUT_VARIABLE libs)
  string(STRIP "${cflags}" cflags)
  string(STRIP "${libs}" libs)
  separate_arguments(cflags UNIX_COMMAND "${cflags}")
  separate_arguments(libs UNIX_COMMAND "${libs}")
  set(found_header FALSE)
  foreach(flag IN LISTS cflags)
    if(NOT flag MATCHES "^-I(.+)$")
      continue()
    endif()
    set(dir "${CMAKE_MATCH_1}")
    if(EXISTS "${dir}/oneshot/oneshot.hpp")
      file(REAL_PATH "${dir}" dir)
      file(REAL_PATH "${installed}/include" expected)
      if(NOT dir STREQUAL expected)
        oneshot_fail("pkg-config's include dir ${dir} is not the staged ${expected}")
      endif()
      set(found_header TRUE)
    endif()
  endforeach()
  if(NOT found_header)
    list(JOIN cflags " " cflags)
    oneshot_fail("pkg-config --cflags oneshot (${cflags}) names no directory with oneshot/oneshot.hpp")
  endif()

  # Compile the consumer with nothing but the pkg-config flags (GCC-style drivers).
  if(CXX_COMPILER AND CXX_COMPILER_ID MATCHES "GNU|Clang")
    separate_arguments(extra_cxx UNIX_COMMAND "${CXX_FLAGS}")
    separate_arguments(extra_ld UNIX_COMMAND "${EXE_LINKER_FLAGS}")
    set(app "${WORK_DIR}/pkgconfig-app")
    if(CMAKE_HOST_WIN32)
      string(APPEND app ".exe")
    endif()
    oneshot_run(COMMAND "${CXX_COMPILER}" ${extra_cxx} ${cflags} "${CONSUMERS_DIR}/main.cpp"
                        -o "${app}" ${extra_ld} ${libs})
    oneshot_run(COMMAND "${app}")
    message(STATUS "consumer pkgconfig: compiled with pkg-config's flags and ran")
  else()
    message(STATUS "not a GCC-style compiler driver: checked the flags only")
  endif()

else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

message(STATUS "${MODE}: passed")
