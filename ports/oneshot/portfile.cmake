# oneshot is header-only: nothing differs between debug and release, so build release only.
set(VCPKG_BUILD_TYPE release)

vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO oneshot-cpp/oneshot
    REF "v${VERSION}"
    # Placeholder: replace with the SHA512 of the v${VERSION} release archive (vcpkg prints the
    # expected value on the first install with SHA512 0).
    SHA512 0
    HEAD_REF main
)

# Keep these options in sync with tests/consumers (its vcpkg staging test reads them from here).
vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DONESHOT_BUILD_TESTS=OFF
        -DONESHOT_BUILD_BENCHMARKS=OFF
        -DONESHOT_BUILD_EXAMPLES=OFF
)

vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/oneshot)
vcpkg_fixup_pkgconfig()

# Header-only: no debug tree, no lib/ or bin/.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE-MIT" "${SOURCE_PATH}/LICENSE-APACHE")
