import CParleyShims
import Dispatch

/// Hands memory freed by the media engine back to the system.
///
/// glibc's malloc keeps what a thread frees in that thread's arena for reuse and returns only
/// the free top of a heap by itself; a packet cache (768 KiB) is allocated from the arena once
/// freeing an earlier one raised the mmap threshold, so after a large call or a flood of tracks
/// the process stayed hundreds of MiB larger with nothing in use (BENCHMARKS.md "Call flood").
/// `malloc_trim(0)` returns every arena's free pages. It walks the arenas under their locks, so
/// it runs on a utility queue, never on the media thread, and only after caches were freed.
enum MemoryRelease {
    static func request() {
        DispatchQueue.global(qos: .utility).async { _ = parley_malloc_trim(0) }
    }
}
