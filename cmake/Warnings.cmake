# Warnings are errors everywhere; sanitizers and fuzzing are build options.
add_compile_options(-Wall -Wextra -Werror)
# Designated initializers that leave members at their defaults are the intended style.
add_compile_options(-Wno-missing-field-initializers)
if(F0_SANITIZE)
  # -O1: ASan's advice for a usable speed (the whole-mesh simulation runs 200 nodes under it).
  # _GLIBCXX_ASSERTIONS: the standard library checks its preconditions too (front() of an empty
  # deque, an index out of range), which ASan alone lets pass when the memory happens to be ours.
  # -g1: line tables only, all a sanitizer report needs (file:line in every frame); full -g made
  # this tree a third slower to compile and its objects twice the size.
  add_compile_options(-O1 -g1 -fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -D_GLIBCXX_ASSERTIONS)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 with ASan at -O1 reports maybe-uninitialized inside std::variant (false positives);
    # the release build (-O2) keeps that warning as an error.
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
if(F0_FUZZ)
  # libFuzzer's coverage instrumentation on every library; only the fuzz targets link libFuzzer
  # (tests/fuzz). make test builds one clang tree with F0_SANITIZE and F0_FUZZ both on: the tests
  # and the fuzz targets share its objects (the sanitizer runtime answers the coverage hooks in a
  # test binary), which saves compiling the project a third time.
  add_compile_options(-fsanitize=fuzzer-no-link)
  if(NOT F0_SANITIZE)
    # Alone: Debug (assertions on) at -O1 with line tables only; a crash still names its line.
    add_compile_options(-O1 -gline-tables-only -fsanitize=address,undefined
                        -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
  endif()
endif()
