"""The environment the web processes run with, beside the rest (scripts/production.py; the
look-up bench serves its codes with the same). Each can be overridden from the environment.

- DATABASE_CONN_MAX_AGE: each thread keeps its database connection for a minute. Opening one
  per request cost a look-up of 10,000 URLs a few milliseconds of CPU here and a new PostgreSQL
  backend there. 0 goes back to one per request.
- MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ (glibc): a look-up's answer is up to 6 MB,
  which glibc would map afresh for every request and give back after it (1,800 page faults a
  call, 2-3 ms of the kernel's time). Below 32 MB from the heap, and up to 64 MB of it kept
  between requests: 430 faults a call. The cost is at most 64 MB of freed heap a process
  holds on to.
"""

WEB_ENV = {
    "DATABASE_CONN_MAX_AGE": "60",
    "MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024),
    "MALLOC_TRIM_THRESHOLD_": str(64 * 1024 * 1024),
}
