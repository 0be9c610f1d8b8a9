# This build's publisher key: generated once into build-key/ (never committed, never installed),
# its public half copied to bin/trusted-keys/, which psahost trusts by default when it runs from
# the build tree. The build signs the bundled plugins and the test plugins with it.
set(PSAHOST_BUILD_KEY_DIR ${CMAKE_BINARY_DIR}/build-key CACHE INTERNAL "")
set(PSAHOST_TRUSTED_KEYS_DIR ${CMAKE_BINARY_DIR}/bin/trusted-keys CACHE INTERNAL "")

# `psahost` as a COMMAND adds an ordering dependency only, so a relinked psahost neither makes a
# new key (keygen refuses to overwrite one) nor re-signs anything.
add_custom_command(
  OUTPUT ${PSAHOST_BUILD_KEY_DIR}/publisher.key ${PSAHOST_BUILD_KEY_DIR}/publisher.pub
  COMMAND psahost plugins keygen --out ${PSAHOST_BUILD_KEY_DIR}
  COMMENT "Generating this build's plugin signing key (build-key/)"
  VERBATIM)
add_custom_command(
  OUTPUT ${PSAHOST_TRUSTED_KEYS_DIR}/build.pub
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PSAHOST_TRUSTED_KEYS_DIR}
  COMMAND ${CMAKE_COMMAND} -E copy ${PSAHOST_BUILD_KEY_DIR}/publisher.pub
          ${PSAHOST_TRUSTED_KEYS_DIR}/build.pub
  DEPENDS ${PSAHOST_BUILD_KEY_DIR}/publisher.pub
  COMMENT "Trusting this build's key (bin/trusted-keys/build.pub)"
  VERBATIM)
add_custom_target(psahost_build_key ALL
  DEPENDS ${PSAHOST_BUILD_KEY_DIR}/publisher.key ${PSAHOST_TRUSTED_KEYS_DIR}/build.pub)

# Every plugin signature the build makes; what runs the plugins (tests, tools/dev.sh run)
# depends on it.
add_custom_target(signed_plugins ALL)

# psahost_sign_plugin(<name>): signs the manifest psa_add_plugin() stamped beside <name> with
# this build's key, after every build of <name> (its library changed or its manifest was stamped
# again). One line per plugin, in any folder.
function(psahost_sign_plugin name)
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/${name}.signed)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND psahost plugins sign $<TARGET_FILE_DIR:${name}>/${name}.json
            --key ${PSAHOST_BUILD_KEY_DIR}/publisher.key
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${name}
    COMMENT "Signing ${name}.json with this build's key"
    VERBATIM)
  add_custom_target(${name}-signature DEPENDS ${stamp})
  add_dependencies(${name}-signature psahost_build_key)
  add_dependencies(signed_plugins ${name}-signature)
endfunction()
