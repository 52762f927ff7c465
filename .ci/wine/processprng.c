/* Wine 8 lacks ProcessPrng in bcryptprimitives.dll, which Rust's std calls at start: without it every
 * Rust exe exits 53 silently. This stand-in DLL forwards to SystemFunction036 (RtlGenRandom, advapi32).
 * Built with mingw by .ci/platforms and copied into the private Wine prefix only; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
