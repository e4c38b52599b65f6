# Functions of the Dfir CMake package (docs/build-integration.md).
#
# dfir_add_program(NAME SOURCE file.dfir [OPTIONS flag...])
#   Builds a DFIR program with `dfirc build` into ${CMAKE_CURRENT_BINARY_DIR}/NAME:
#   one executable per location and deploy.json, rebuilt when the source or
#   dfirc changes. OPTIONS go to `dfirc build` as they are (`--partition
#   server=2`, `--link spin.o`, `-O3`, ...). The target NAME builds it; the
#   directory is in its property DFIR_OUTPUT_DIR.

function(dfir_add_program name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SOURCE" "OPTIONS")
  if(NOT ARG_SOURCE)
    message(FATAL_ERROR "dfir_add_program(${name}): SOURCE is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dfir_add_program(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(source "${ARG_SOURCE}" ABSOLUTE)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${name}")
  add_custom_command(
    OUTPUT "${out}/deploy.json"
    COMMAND Dfir::dfirc build "${source}" -o "${out}" -MD ${ARG_OPTIONS}
    DEPENDS "${source}" Dfir::dfirc
    DEPFILE "${out}/deploy.json.d"
    COMMENT "dfirc build ${ARG_SOURCE}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS "${out}/deploy.json")
  set_target_properties(${name} PROPERTIES DFIR_OUTPUT_DIR "${out}")
endfunction()
