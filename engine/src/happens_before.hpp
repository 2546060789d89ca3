// Tells ThreadSanitizer about the ordering that oneTBB guarantees. libtbb is not built with the
// sanitizer, so its hand-offs (a spawned task starting on another thread, a wait returning after
// the tasks it waited for) are invisible to it, and every result a task passes on would be reported
// as a race. Each hand-off is annotated on both sides: the thread that passes work on calls
// happens_before(x), the one that takes it up calls happens_after(x), with the same address.
// Without the sanitizer both compile to nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace dagprop::detail {

inline void happens_before([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(const_cast<void*>(sync));
#endif
}

inline void happens_after([[maybe_unused]] const void* sync) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(const_cast<void*>(sync));
#endif
}

}  // namespace dagprop::detail
