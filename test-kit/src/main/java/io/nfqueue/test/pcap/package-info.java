/**
 * Capture files for tests: read classic pcap and pcapng files, turn their frames into the IP
 * packets NFQUEUE delivers, and write packets with their verdicts to a pcapng file Wireshark
 * opens. No native code and no dependency: the formats are small and fully specified
 * (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng).
 *
 * <ul>
 *   <li>{@link CaptureReader}: the records of a file
 *       ({@link CaptureRecord}: timestamp, interface, link type, bytes,
 *       lengths, comments); bad bytes throw {@link CaptureFormatException}
 *       naming the offset.</li>
 *   <li>{@link LinkLayerDecoder}: a record's link-layer frame to an
 *       {@link IpPacket} (the IP packet and its hardware protocol), or a
 *       counted skip for ARP and other non-IP frames.</li>
 *   <li>{@link PcapngWriter}: IP packets with a comment each, e.g. the verdict.</li>
 * </ul>
 *
 * <pre>{@code
 * LinkLayerDecoder decoder = new LinkLayerDecoder();
 * try (CaptureReader in = CaptureReader.open(Path.of("tcpdump.pcap"));
 *      PcapngWriter out = PcapngWriter.create(Path.of("verdicts.pcapng"))) {
 *     for (CaptureRecord record = in.next(); record != null; record = in.next()) {
 *         Optional<IpPacket> ip = decoder.decode(record);
 *         if (ip.isPresent()) {
 *             String verdict = pipeline.verdictFor(ip.get().hwProtocol(), ip.get().payloadBytes());
 *             out.write(ip.get(), verdict);                          // e.g. "ACCEPT mark=0x7"
 *         }
 *     }
 * }
 * System.out.println(decoder.skippedByReason());                     // {ethertype 0x0806 (ARP)=2}
 * }</pre>
 */
package io.nfqueue.test.pcap;
