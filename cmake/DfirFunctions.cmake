# Functions of the Dfir CMake package (docs/build-integration.md).
#
# dfir_add_program(NAME SOURCE file.dfir [OPTIONS flag...])
#   Builds a DFIR program with `dfirc build` into ${CMAKE_CURRENT_BINARY_DIR}/NAME:
#   one executable per location and deploy.json, rebuilt when the source or
#   dfirc changes. OPTIONS go to `dfirc build` as they are (`--partition
#   server=2`, `--link spin.o`, `-O3`, ...). The target NAME builds it; the
#   directory is in its property DFIR_OUTPUT_DIR.

# The absolute path of SOURCE, after checking that it was given and that
# nothing else was.
function(_dfir_checked_source fn name given unparsed out)
  if(NOT given)
    message(FATAL_ERROR "${fn}(${name}): SOURCE is required")
  endif()
  if(unparsed)
    message(FATAL_ERROR "${fn}(${name}): unknown arguments ${unparsed}")
  endif()
  get_filename_component(path "${given}" ABSOLUTE)
  set(${out} "${path}" PARENT_SCOPE)
endfunction()

function(dfir_add_program name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SOURCE" "OPTIONS")
  _dfir_checked_source(dfir_add_program "${name}" "${ARG_SOURCE}" "${ARG_UNPARSED_ARGUMENTS}" source)
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

# dfir_add_library(NAME SOURCE file.dfir [LOCATION loc] [PREFIX p] [OPTIONS flag...])
#   Compiles one location of a DFIR program (LOCATION, default `main`) to an
#   object with `dfirc build --emit=obj` and makes it a static library NAME
#   to link into a program of one's own: it links Dfir::runtime, and its
#   include directory has the header `dfirc build --emit=header` writes,
#   `<p>.h` (p: PREFIX, default <file name>_<location>): the location's
#   descriptor `<p>_location`, the C types of its values and the typed
#   embedding API (`<p>_create`, `<p>_push_<stream>`, `<p>_on_<sink>`;
#   docs/embedding.md). Object and header are rebuilt when the source changes.

function(dfir_add_library name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SOURCE;LOCATION;PREFIX" "OPTIONS")
  _dfir_checked_source(dfir_add_library "${name}" "${ARG_SOURCE}" "${ARG_UNPARSED_ARGUMENTS}" source)
  get_filename_component(stem "${ARG_SOURCE}" NAME_WE)
  set(location main)
  if(ARG_LOCATION)
    set(location "${ARG_LOCATION}")
  endif()
  set(prefix "${ARG_PREFIX}")
  if(NOT prefix)
    string(MAKE_C_IDENTIFIER "${stem}_${location}" prefix)
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/${name}.dfir")
  set(object "${dir}/${prefix}.o")
  add_custom_command(
    OUTPUT "${object}"
    COMMAND Dfir::dfirc build "${source}" --emit=obj --location "${location}" --prefix "${prefix}" -o "${object}" -MD
            ${ARG_OPTIONS}
    DEPENDS "${source}" Dfir::dfirc
    DEPFILE "${object}.d"
    COMMENT "dfirc build --emit=obj ${ARG_SOURCE} (${location})"
    VERBATIM)
  set(header "${dir}/include/${prefix}.h")
  file(MAKE_DIRECTORY "${dir}/include")
  add_custom_command(
    OUTPUT "${header}"
    COMMAND Dfir::dfirc build "${source}" --emit=header --location "${location}" --prefix "${prefix}" -o "${header}"
            -MD ${ARG_OPTIONS}
    DEPENDS "${source}" Dfir::dfirc
    DEPFILE "${header}.d"
    COMMENT "dfirc build --emit=header ${ARG_SOURCE} (${location})"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${name} STATIC "${object}" "${header}")
  set_target_properties(${name} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${name} PUBLIC "${dir}/include")
  target_link_libraries(${name} PUBLIC Dfir::runtime)
endfunction()
