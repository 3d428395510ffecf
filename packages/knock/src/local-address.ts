/**
 * The local address that routes to a remote: what `-client` defaults to (client.md). A UDP socket
 * `connect` asks the kernel's routing table and sends nothing.
 */
import { createSocket } from "node:dgram";

/** Returns the local IP address the kernel would use to reach `address`. */
export async function localAddressFor(
  address: string,
  family: 4 | 6,
): Promise<string> {
  const socket = createSocket(family === 6 ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(9, address, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}
