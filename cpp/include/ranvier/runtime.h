// Runtime services shared by every kernel: which instruction set the kernels
// use, the thread pool, memory for outputs, and per-thread scratch memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace ranvier {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);
// Parses "generic" | "avx2" | "avx512"; returns false for anything else.
bool parse_isa(const char* name, Isa* out);

// Best instruction set this CPU and this build support (CPUID + OS support).
Isa detect_isa();
// The instruction set the kernels use now. Chosen once at first use from
// RANVIER_ISA or detect_isa(); set_isa() changes it (tests, `ranvier check`).
Isa selected_isa();
// Returns false (and changes nothing) when the CPU cannot run `isa`.
bool set_isa(Isa isa);
bool isa_supported(Isa isa);

// ---- threads ----------------------------------------------------------------
// One pool for every kernel. Defaults to OMP_NUM_THREADS when set, else the
// number of cores the process may run on.
int num_threads();
void set_num_threads(int n);

// Calls fn(begin, end) over [0, n) split into at most num_threads() contiguous
// chunks of at least `grain` items; the calling thread takes the first chunk.
// Runs inline when there is a single chunk, so tiny ops pay no thread wake-up.
void parallel_for(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

// Calls task(t) for each t in [0, tasks), each claimed by whichever thread is
// free first: a thread slowed down (another process on its core) takes fewer
// tasks instead of holding up the rest. Inline when there are no more than
// `grain` tasks (parallel_for's rule: a thread gets at least grain of them).
void parallel_tasks(std::int64_t tasks, std::int64_t grain, const std::function<void(std::int64_t)>& task);

// ---- ceilings -------------------------------------------------------------------
// The selected ISA's fp32 FMA peak on num_threads() threads, in GFLOP/s, from
// independent FMA chains on every thread for about `seconds`.
double measure_fma_peak(double seconds);
// STREAM triad bandwidth on num_threads() threads, in GB/s: the best pass over
// 3 arrays of 64 MB within about `seconds` (at least one pass).
double measure_triad_bandwidth(double seconds);

// ---- output buffers --------------------------------------------------------------
// Host memory for the large arrays ops return. A buffer its array no longer
// needs is kept, up to a limit of bytes held, for the next output of the same
// size: training repeats its shapes every step, and memory fresh from the OS
// costs a page fault and a zeroed page at its first write. Page-aligned;
// thread-safe. (Its measured gain is in results/, not here.)
void* take_output_buffer(std::size_t bytes);
// Gives back a buffer from take_output_buffer (same bytes): kept, and the
// oldest kept buffers freed while more than the limit is held; a buffer larger
// than the limit is freed at once.
void give_back_output_buffer(void* buffer, std::size_t bytes);
// Bytes the cache may hold in buffers no array uses (default 256 MB, or
// RANVIER_OUTPUT_CACHE_MB); 0 frees every buffer as its array dies.
void set_output_cache_limit(std::size_t bytes);
std::size_t output_cache_limit();
// Bytes held now in buffers no array uses.
std::size_t output_cache_held();

// ---- scratch ------------------------------------------------------------------
// Per-thread, 64-byte aligned buffer that grows and is reused across calls, so
// kernels never allocate in their inner loops. Valid until the next call with
// the same slot on the same thread. Each family owns its slots, so a kernel
// can hold its buffer while it calls the GEMM (which uses its own three).
enum class ScratchSlot {
  gemm_packed_a,
  gemm_packed_b,
  gemm_narrow,   // the transposed product of a narrow GEMM
  gemm_split_k,  // the other threads' partial products of a GEMM split along k
  dense,
  conv,
  attention,
  rnn,
  pool_softmax_losses,
  norm_embedding_dropout_optim,
  count
};
float* scratch(ScratchSlot slot, std::size_t floats);

}  // namespace ranvier
