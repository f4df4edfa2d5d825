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
