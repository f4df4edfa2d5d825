# Precompiled headers: most translation units parse nlohmann/json and the same standard headers,
# the CLI's parse CLI11 and the tests GoogleTest; `make test` compiles the tree twice (release;
# ASan+UBSan with the fuzz targets, clang), on 2 cores. f0_pch(TARGET [EXTRA_HEADERS...])
# precompiles the common set plus the extras for one target. -DF0_PCH=OFF builds without them (to check includes).
option(F0_PCH "Precompile the headers most translation units include" ON)
function(f0_pch target)
  if(F0_PCH)
    target_precompile_headers(${target} PRIVATE <algorithm> <chrono> <cstdint> <functional> <map>
      <memory> <optional> <set> <string> <string_view> <vector> <nlohmann/json.hpp> ${ARGN})
  endif()
endfunction()

# f0_unity(TARGET BATCH): compile TARGET's files in batches of BATCH per translation unit (0: all
# in one). Each file emitted the inline code of the headers it shares with the others again
# (nlohmann/json, CLI11, Beast, GoogleTest): in the sanitizer tree a 29-line subcommand took 16 s,
# nearly all of it the backend. Files batched together share one anonymous namespace, so names in
# it must differ between a target's files. GCC's -Wsubobject-linkage, meant for headers, fires on
# a batched file's classes that hold a type of its anonymous namespace: off for these targets.
# -DF0_PCH=OFF compiles every file alone too, so that a missing #include still shows.
function(f0_unity target batch)
  if(NOT F0_PCH)
    return()
  endif()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE ${batch})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()
