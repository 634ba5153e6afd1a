{
  "targets": [{
    "target_name": "memmap",
    "sources": [
      "native/accessors.cc",
      "native/addon.cc",
      "native/areas.cc",
      "native/call.cc",
      "native/errors.cc",
      "native/mapping.cc",
      "native/region.cc",
      "native/shared_memory.cc",
      "native/sharing.cc",
      "native/waits.cc"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "xcode_settings": {
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
      "MACOSX_DEPLOYMENT_TARGET": "11.0"
    },
    "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/std:c++17"]}},
    "conditions": [
      ["OS=='linux'", {"sources": ["native/os/posix.cc", "native/os/linux.cc", "native/os/areas_linux.cc", "native/os/fault_posix.cc", "native/os/shared_posix.cc"]}],
      ["OS=='mac'", {"sources": ["native/os/posix.cc", "native/os/macos.cc", "native/os/areas_macos.cc", "native/os/fault_posix.cc", "native/os/shared_posix.cc"]}],
      ["OS=='freebsd'", {"sources": ["native/os/posix.cc", "native/os/freebsd.cc", "native/os/areas_freebsd.cc", "native/os/fault_posix.cc", "native/os/shared_posix.cc"], "libraries": ["-lutil"]}],
      ["OS=='win'", {"sources": ["native/os/windows.cc", "native/os/areas_windows.cc", "native/os/fault_windows.cc", "native/os/shared_windows.cc"]}]
    ]
  }]
}
