# The partner's console: every file in host/ui/assets is built into psahost as a byte array
# (console_assets.cpp, generated), so `serve` needs no web server and no files beside it.
file(GLOB psahost_console_assets CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ui/assets/*)
set(psahost_console_cpp ${CMAKE_CURRENT_BINARY_DIR}/console_assets.cpp)
add_custom_command(
  OUTPUT ${psahost_console_cpp}
  COMMAND ${CMAKE_COMMAND} -DASSET_DIR=${CMAKE_CURRENT_SOURCE_DIR}/ui/assets
          -DOUT=${psahost_console_cpp} -P ${CMAKE_CURRENT_SOURCE_DIR}/ui/embed_assets.cmake
  DEPENDS ${psahost_console_assets} ${CMAKE_CURRENT_SOURCE_DIR}/ui/embed_assets.cmake
  COMMENT "Embedding the console's assets"
  VERBATIM)
target_sources(psahost_core PRIVATE ${psahost_console_cpp})
