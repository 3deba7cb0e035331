{
  "targets": [
    {
      "target_name": "iomux",
      "sources": [
        "src/native/module.cc",
        "src/native/errors.cc",
        "src/native/args.cc",
        "src/native/select.cc",
        "src/native/async_wait.cc",
        "src/native/direct_watch.cc",
        "src/native/socket.cc",
        "src/native/address.cc",
        "src/native/resolve.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } },
      "conditions": [
        ["OS=='linux'", { "sources": ["src/native/poll.cc", "src/native/epoll.cc", "src/native/sys_posix.cc", "src/native/loop_uv.cc", "src/native/uring.cc", "src/native/sys_uring.cc" ] }],
        ["OS!='linux' and OS!='win'", { "sources": ["src/native/poll.cc", "src/native/epoll_none.cc", "src/native/sys_posix.cc", "src/native/loop_uv.cc", "src/native/uring_none.cc"] }],
        ["OS=='mac' or OS=='freebsd'", { "sources": ["src/native/kqueue.cc"] }],
        ["OS!='mac' and OS!='freebsd'", { "sources": ["src/native/kqueue_none.cc"] }],
        ["OS=='win'", {
          "sources": ["src/native/poll_none.cc", "src/native/epoll_none.cc", "src/native/sys_win.cc", "src/native/loop_napi.cc", "src/native/uring_none.cc"],
          "libraries": ["-lws2_32"]
        }]
      ]
    }
  ]
}
