{
  "targets": [
    {
      "target_name": "portknock_pcap",
      "sources": ["native/pcap_binding.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lpcap"]
    }
  ]
}
