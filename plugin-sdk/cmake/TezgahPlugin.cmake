# tezgah_plugin(<kind>-<name> SOURCES a.cpp b.cpp [LIBRARIES libs...])
#   Builds a loadable plugin `<kind>-<name>.so` against the SDK. Inside this repository it lands in
#   build/lib/tezgah/plugins/; elsewhere in the build tree's own output folder, or in
#   TEZGAH_PLUGIN_OUTPUT_DIR when set. An OBJECT library `<target>_objects` holds the code so tests
#   can link the plugin directly (see tezgah_plugin_test).
# tezgah_plugin_test(<kind>-<name> SOURCES tests/x_test.cpp)
#   A GoogleTest executable linking the plugin's code, the SDK fakes and gtest_main.
function(tezgah_plugin target)
  cmake_parse_arguments(P "" "" "SOURCES;LIBRARIES" ${ARGN})
  add_library(${target}_objects OBJECT ${P_SOURCES})
  target_link_libraries(${target}_objects PUBLIC Tezgah::sdk ${P_LIBRARIES})
  set_target_properties(${target}_objects PROPERTIES
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON POSITION_INDEPENDENT_CODE ON)
  add_library(${target} MODULE $<TARGET_OBJECTS:${target}_objects>)
  target_link_libraries(${target} PRIVATE ${target}_objects)
  set_target_properties(${target} PROPERTIES PREFIX "" OUTPUT_NAME ${target})
  if(TEZGAH_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${TEZGAH_PLUGIN_OUTPUT_DIR})
  endif()
  if(COMMAND tezgah_install_plugin)
    tezgah_install_plugin(${target})
  endif()
endfunction()

function(tezgah_plugin_test target)
  cmake_parse_arguments(P "" "" "SOURCES" ${ARGN})
  add_executable(${target}_test ${P_SOURCES})
  target_link_libraries(${target}_test PRIVATE ${target}_objects Tezgah::sdk_testing GTest::gtest_main)
  target_compile_definitions(${target}_test PRIVATE
    TEZGAH_SOURCE_DIR="${PROJECT_SOURCE_DIR}" TEZGAH_FIXTURES_DIR="${TEZGAH_FIXTURES_DIR}")
  gtest_discover_tests(${target}_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${target})
endfunction()
