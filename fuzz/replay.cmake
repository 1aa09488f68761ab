# Included by tests/CMakeLists.txt: every fuzz target, linked with
# fuzz/replay_main.c into a normal executable, replays its checked-in seeds
# (fuzz/seeds/<target>/) and the inputs that once crashed it
# (tests/crashers/<target>/)
# as the test fuzz_replay_<target> (labelled asan and fuzz; the sanitizer
# stage of scripts/test.sh runs it under ASan + UBSan).
include(${CMAKE_SOURCE_DIR}/fuzz/targets.cmake)
foreach(src ${FROST_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  frost_fuzz_target_ok(${name})
  if(NOT FROST_FUZZ_OK)
    continue()
  endif()
  add_executable(replay_${name} ${src} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c)
  frost_fuzz_target_setup(replay_${name} ${name})
  target_link_libraries(replay_${name} PRIVATE frost_internal)
  set(dirs)
  foreach(d ${CMAKE_SOURCE_DIR}/fuzz/seeds/${name} ${CMAKE_SOURCE_DIR}/tests/crashers/${name})
    if(EXISTS ${d})
      list(APPEND dirs ${d})
    endif()
  endforeach()
  if(dirs)
    add_test(NAME fuzz_replay_${name} COMMAND replay_${name} ${dirs})
    frost_test(fuzz_replay_${name})
    set_property(TEST fuzz_replay_${name} APPEND PROPERTY LABELS asan fuzz)
  endif()
endforeach()
