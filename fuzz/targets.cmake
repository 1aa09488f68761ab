# Per-target extra sources and libraries of the fuzz targets (fuzz/fuzz_*.c),
# shared by fuzz/CMakeLists.txt (libFuzzer builds) and tests/CMakeLists.txt
# (the replay tests of every normal build).  Targets around tools/ code need
# jansson; without it they are left out.
set(FROST_FUZZ_TOOLS ${CMAKE_SOURCE_DIR}/tools)
set(FROST_FUZZ_EXTRA_fuzz_convert
    ${FROST_FUZZ_TOOLS}/convert/cmd_convert.c ${FROST_FUZZ_TOOLS}/common/cli.c
    ${FROST_FUZZ_TOOLS}/common/model_source.c
    ${FROST_FUZZ_TOOLS}/convert/convert_graph.c ${FROST_FUZZ_TOOLS}/convert/convert_layers.c
    ${FROST_FUZZ_TOOLS}/convert/convert_weights.c)
set(FROST_FUZZ_EXTRA_fuzz_serve ${FROST_FUZZ_TOOLS}/serve/serve_json.c ${FROST_FUZZ_TOOLS}/serve/serve_response.c
    ${FROST_FUZZ_TOOLS}/serve/serve_example.c)
set(FROST_FUZZ_EXTRA_fuzz_serve_config ${FROST_FUZZ_TOOLS}/serve/serve_config.c)
set(FROST_FUZZ_EXTRA_fuzz_warmup ${FROST_FUZZ_TOOLS}/serve/serve_warmup_parse.c)
set(FROST_FUZZ_NEEDS_JANSSON fuzz_convert fuzz_serve)

file(GLOB FROST_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)

# frost_fuzz_target_setup(TARGET NAME): add NAME's extra sources / libraries to TARGET.
# Returns in FROST_FUZZ_OK (parent scope) whether NAME can be built here.
function(frost_fuzz_target_ok name)
  set(FROST_FUZZ_OK 1 PARENT_SCOPE)
  if(name IN_LIST FROST_FUZZ_NEEDS_JANSSON AND NOT JANSSON_FOUND)
    set(FROST_FUZZ_OK 0 PARENT_SCOPE)
  endif()
endfunction()
function(frost_fuzz_target_setup target name)
  target_sources(${target} PRIVATE ${FROST_FUZZ_EXTRA_${name}})
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/tools ${CMAKE_SOURCE_DIR}/src)
  if(name IN_LIST FROST_FUZZ_NEEDS_JANSSON)
    target_link_libraries(${target} PRIVATE PkgConfig::JANSSON)
  endif()
endfunction()
