// Measures this CPU's float32 fused multiply-add peak, per thread and summed.
//
// Each thread runs independent chains acc = acc * a + b of vector FMAs. One
// chain is limited by the FMA latency, about 4 cycles on current x86 cores. A
// core with 2 FMA pipes therefore needs at least 8 chains in flight. The AVX2
// kernel runs 12 (16 ymm registers) and the AVX-512 kernel 16 (32 zmm
// registers). Each FMA lane counts as 2 flops.
//
// Build: cc -O2 -march=native -pthread fma_peak.c -o fma_peak
// Usage: fma_peak ISA THREADS SECONDS RUNS   (ISA: avx512 or avx2)
// Prints one line per run: "ISA THREADS GFLOPS", or "ISA unsupported" when this
// build has no such instructions.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Iterations between two clock reads: long enough that reading the clock costs
// nothing, short enough (a few ms) to stop close to the requested duration.
#define ITERATIONS_PER_CHECK 1000000L

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  int avx512;             // 1: AVX-512 kernel, 0: AVX2 kernel
  double seconds;         // requested duration
  pthread_barrier_t* start;
  double flops_per_second;  // result
  float checksum;           // keeps the compiler from dropping the chains
} Job;

#ifdef __AVX512F__
// 16 chains of 16 float lanes; returns the FMA lanes done per second.
static double run_avx512(double seconds, float* checksum) {
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
  __m512 c0 = _mm512_set1_ps(0.0f), c1 = _mm512_set1_ps(0.1f);
  __m512 c2 = _mm512_set1_ps(0.2f), c3 = _mm512_set1_ps(0.3f);
  __m512 c4 = _mm512_set1_ps(0.4f), c5 = _mm512_set1_ps(0.5f);
  __m512 c6 = _mm512_set1_ps(0.6f), c7 = _mm512_set1_ps(0.7f);
  __m512 c8 = _mm512_set1_ps(0.8f), c9 = _mm512_set1_ps(0.9f);
  __m512 c10 = _mm512_set1_ps(1.0f), c11 = _mm512_set1_ps(1.1f);
  __m512 c12 = _mm512_set1_ps(1.2f), c13 = _mm512_set1_ps(1.3f);
  __m512 c14 = _mm512_set1_ps(1.4f), c15 = _mm512_set1_ps(1.5f);
  long iterations = 0;
  const double start = now_seconds();
  double elapsed = 0.0;
  while (elapsed < seconds) {
    for (long i = 0; i < ITERATIONS_PER_CHECK; ++i) {
      c0 = _mm512_fmadd_ps(c0, a, b);
      c1 = _mm512_fmadd_ps(c1, a, b);
      c2 = _mm512_fmadd_ps(c2, a, b);
      c3 = _mm512_fmadd_ps(c3, a, b);
      c4 = _mm512_fmadd_ps(c4, a, b);
      c5 = _mm512_fmadd_ps(c5, a, b);
      c6 = _mm512_fmadd_ps(c6, a, b);
      c7 = _mm512_fmadd_ps(c7, a, b);
      c8 = _mm512_fmadd_ps(c8, a, b);
      c9 = _mm512_fmadd_ps(c9, a, b);
      c10 = _mm512_fmadd_ps(c10, a, b);
      c11 = _mm512_fmadd_ps(c11, a, b);
      c12 = _mm512_fmadd_ps(c12, a, b);
      c13 = _mm512_fmadd_ps(c13, a, b);
      c14 = _mm512_fmadd_ps(c14, a, b);
      c15 = _mm512_fmadd_ps(c15, a, b);
    }
    iterations += ITERATIONS_PER_CHECK;
    elapsed = now_seconds() - start;
  }
  __m512 sum = _mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3));
  sum = _mm512_add_ps(sum, _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
  sum = _mm512_add_ps(sum, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
  sum = _mm512_add_ps(sum, _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15)));
  *checksum = _mm512_reduce_add_ps(sum);
  return (double)iterations * 16 * 16 / elapsed;
}
#endif

#if defined(__AVX2__) && defined(__FMA__)
// 12 chains of 8 float lanes; returns the FMA lanes done per second.
static double run_avx2(double seconds, float* checksum) {
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
  __m256 c0 = _mm256_set1_ps(0.0f), c1 = _mm256_set1_ps(0.1f);
  __m256 c2 = _mm256_set1_ps(0.2f), c3 = _mm256_set1_ps(0.3f);
  __m256 c4 = _mm256_set1_ps(0.4f), c5 = _mm256_set1_ps(0.5f);
  __m256 c6 = _mm256_set1_ps(0.6f), c7 = _mm256_set1_ps(0.7f);
  __m256 c8 = _mm256_set1_ps(0.8f), c9 = _mm256_set1_ps(0.9f);
  __m256 c10 = _mm256_set1_ps(1.0f), c11 = _mm256_set1_ps(1.1f);
  long iterations = 0;
  const double start = now_seconds();
  double elapsed = 0.0;
  while (elapsed < seconds) {
    for (long i = 0; i < ITERATIONS_PER_CHECK; ++i) {
      c0 = _mm256_fmadd_ps(c0, a, b);
      c1 = _mm256_fmadd_ps(c1, a, b);
      c2 = _mm256_fmadd_ps(c2, a, b);
      c3 = _mm256_fmadd_ps(c3, a, b);
      c4 = _mm256_fmadd_ps(c4, a, b);
      c5 = _mm256_fmadd_ps(c5, a, b);
      c6 = _mm256_fmadd_ps(c6, a, b);
      c7 = _mm256_fmadd_ps(c7, a, b);
      c8 = _mm256_fmadd_ps(c8, a, b);
      c9 = _mm256_fmadd_ps(c9, a, b);
      c10 = _mm256_fmadd_ps(c10, a, b);
      c11 = _mm256_fmadd_ps(c11, a, b);
    }
    iterations += ITERATIONS_PER_CHECK;
    elapsed = now_seconds() - start;
  }
  __m256 sum = _mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3));
  sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  *checksum = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] +
              lanes[7];
  return (double)iterations * 12 * 8 / elapsed;
}
#endif

static int supported(int avx512) {
#ifdef __AVX512F__
  if (avx512) return 1;
#endif
#if defined(__AVX2__) && defined(__FMA__)
  if (!avx512) return 1;
#endif
  return 0;
}

static void* worker(void* arg) {
  Job* job = (Job*)arg;
  pthread_barrier_wait(job->start);
  double lanes_per_second = 0.0;
#ifdef __AVX512F__
  if (job->avx512) lanes_per_second = run_avx512(job->seconds, &job->checksum);
#endif
#if defined(__AVX2__) && defined(__FMA__)
  if (!job->avx512) lanes_per_second = run_avx2(job->seconds, &job->checksum);
#endif
  job->flops_per_second = 2.0 * lanes_per_second;
  return NULL;
}

// Runs the kernel on `threads` threads started together; returns the summed rate.
static double measure(int avx512, int threads, double seconds, float* checksum) {
  pthread_t ids[64];
  Job jobs[64];
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads);
  for (int t = 0; t < threads; ++t) {
    jobs[t] = (Job){avx512, seconds, &start, 0.0, 0.0f};
    pthread_create(&ids[t], NULL, worker, &jobs[t]);
  }
  double total = 0.0;
  for (int t = 0; t < threads; ++t) {
    pthread_join(ids[t], NULL);
    total += jobs[t].flops_per_second;
    *checksum += jobs[t].checksum;
  }
  pthread_barrier_destroy(&start);
  return total;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s avx512|avx2 THREADS SECONDS RUNS\n", argv[0]);
    return 2;
  }
  const int avx512 = strcmp(argv[1], "avx512") == 0;
  if (!avx512 && strcmp(argv[1], "avx2") != 0) {
    fprintf(stderr, "invalid ISA %s: expected avx512 or avx2\n", argv[1]);
    return 2;
  }
  const int threads = atoi(argv[2]);
  const double seconds = atof(argv[3]);
  const int runs = atoi(argv[4]);
  if (threads < 1 || threads > 64 || seconds <= 0.0 || runs < 1) {
    fprintf(stderr, "invalid arguments: THREADS in [1, 64], SECONDS > 0, RUNS >= 1\n");
    return 2;
  }
  if (!supported(avx512)) {
    printf("%s unsupported\n", argv[1]);
    return 0;
  }
  float checksum = 0.0f;
  for (int r = 0; r < runs; ++r) {
    const double flops = measure(avx512, threads, seconds, &checksum);
    printf("%s %d %.3f\n", argv[1], threads, flops * 1e-9);
  }
  // Printed to stderr so the chains' results are used and cannot be optimised out.
  fprintf(stderr, "checksum %g\n", (double)checksum);
  return 0;
}
