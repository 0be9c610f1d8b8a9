# psa_add_plugin(<name> MANIFEST <manifest.json> SOURCES <files...> [OUTPUT_DIRECTORY <dir>])
#
# Builds <name>.so as a loadable module with hidden visibility and no undefined symbols, and
# after every build writes <name>.json beside it: your manifest with "library" set to the
# module's file name and "sha256" set to the module's digest, ready for psahost to load.
function(psa_add_plugin name)
  cmake_parse_arguments(PSA "" "MANIFEST;OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT PSA_MANIFEST)
    message(FATAL_ERROR "psa_add_plugin(${name}): MANIFEST is required")
  endif()
  if(NOT PSA_SOURCES)
    message(FATAL_ERROR "psa_add_plugin(${name}): SOURCES is required")
  endif()
  get_filename_component(manifest_in "${PSA_MANIFEST}" ABSOLUTE)
  add_library(${name} MODULE ${PSA_SOURCES})
  target_link_libraries(${name} PRIVATE PsaSdk::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${name} PRIVATE -Wl,-z,defs)
  if(PSA_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PSA_OUTPUT_DIRECTORY}")
  endif()
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND}
      -DLIBRARY=$<TARGET_FILE:${name}>
      -DMANIFEST_IN=${manifest_in}
      -DMANIFEST_OUT=$<TARGET_FILE_DIR:${name}>/${name}.json
      -P "${PSA_SDK_CMAKE_DIR}/psa_stamp_manifest.cmake"
    COMMENT "Stamping manifest for ${name}"
    VERBATIM)
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${manifest_in}")
endfunction()
