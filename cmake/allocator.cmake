# The allocator of the programs: the `bulwark` program and the benchmarks link mimalloc
# (Debian's libmimalloc-dev), which takes over malloc and free for the whole process;
# -DBULWARK_ALLOCATOR=system keeps glibc's. The engine's libraries link no allocator: a host
# that embeds them keeps its own. Why mimalloc: docs/performance.md, "Allocator".
set(BULWARK_ALLOCATOR mimalloc CACHE STRING "Allocator of the bulwark program and the benchmarks: mimalloc or system")
set_property(CACHE BULWARK_ALLOCATOR PROPERTY STRINGS mimalloc system)
if(BULWARK_ALLOCATOR STREQUAL "mimalloc")
  find_package(mimalloc REQUIRED)
elseif(NOT BULWARK_ALLOCATOR STREQUAL "system")
  message(FATAL_ERROR "BULWARK_ALLOCATOR must be mimalloc or system, not '${BULWARK_ALLOCATOR}'")
endif()

# Links `target` (an executable) to the allocator. The library is kept even though no
# symbol of the program's own names it (--no-as-needed): its malloc must come before glibc's.
function(bulwark_link_allocator target)
  if(BULWARK_ALLOCATOR STREQUAL "mimalloc")
    target_link_libraries(${target} PRIVATE "-Wl,--push-state,--no-as-needed"
      "$<TARGET_FILE:mimalloc>" "-Wl,--pop-state")
  endif()
endfunction()
