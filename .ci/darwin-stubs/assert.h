/* Stub for the cross clippy check only (.ci/platforms): no Apple SDK here, and nothing is linked. */
#define assert(x) ((void)0)
