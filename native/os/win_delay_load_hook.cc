// MinGW builds only (MSVC builds get node-gyp's own hook): binds the addon's
// Node-API imports, which name NODE.EXE, to whichever executable loaded it,
// so that a renamed node.exe or an embedder can load the addon too.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <delayimp.h>

#include <cstring>

namespace {

FARPROC WINAPI bind_host_executable(unsigned event, DelayLoadInfo* info) {
  if (event != dliNotePreLoadLibrary || _stricmp(info->szDll, "NODE.EXE") != 0) return nullptr;
  return reinterpret_cast<FARPROC>(GetModuleHandleW(nullptr));
}

}  // namespace

// MinGW's delay-load helper defines __pfnDliNotifyHook2 itself, so the hook
// is installed at load time rather than by defining the variable.
extern "C" BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID) {
  if (reason == DLL_PROCESS_ATTACH) __pfnDliNotifyHook2 = bind_host_executable;
  return TRUE;
}
