package io.polysync.platform.client;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * A client certificate's private key as PKCS#8 PEM, which is all grpc-java's TLS (netty,
 * without Bouncy Castle) reads. Keys often come as PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}:
 * cert-manager's default encoding, {@code openssl genrsa -traditional}) or SEC1 EC ({@code BEGIN
 * EC PRIVATE KEY}: openssl ecparam, trustme); both are rewrapped, losslessly, as PKCS#8 (RFC
 * 5208) — the other languages' TLS stacks read all three as they are.
 */
final class PrivateKeys {
  private static final byte[] RSA_ENCRYPTION = { // OID 1.2.840.113549.1.1.1, then NULL parameters
      0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  private static final byte[] EC_PUBLIC_KEY = { // OID 1.2.840.10045.2.1
      0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
  private static final byte[] VERSION_0 = {0x02, 0x01, 0x00};

  private PrivateKeys() {}

  /** {@code pem} as PKCS#8 PEM: unchanged when it is already ({@code BEGIN PRIVATE KEY}). */
  static byte[] toPkcs8(byte[] pem) {
    String text = new String(pem, StandardCharsets.US_ASCII);
    byte[] algorithm;
    byte[] key;
    if (text.contains("-----BEGIN RSA PRIVATE KEY-----")) {
      key = decode(pem, "RSA PRIVATE KEY");
      algorithm = RSA_ENCRYPTION;
    } else if (text.contains("-----BEGIN EC PRIVATE KEY-----")) {
      key = decode(pem, "EC PRIVATE KEY");
      algorithm = concat(EC_PUBLIC_KEY, sec1Curve(key));
    } else {
      return pem;
    }
    byte[] pkcs8 = der(0x30, concat(VERSION_0, der(0x30, algorithm), der(0x04, key)));
    return ("-----BEGIN PRIVATE KEY-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pkcs8)
        + "\n-----END PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** The DER inside the first {@code -----BEGIN <label>-----} block of {@code pem} (unencrypted). */
  static byte[] decode(byte[] pem, String label) {
    String text = new String(pem, StandardCharsets.US_ASCII);
    String begin = "-----BEGIN " + label + "-----";
    int start = text.indexOf(begin);
    int end = start < 0 ? -1 : text.indexOf("-----END " + label + "-----", start);
    if (end < 0) {
      throw new IllegalArgumentException("no " + label + " block (BEGIN and END lines) in the PEM");
    }
    String body = text.substring(start + begin.length(), end);
    if (body.contains(":")) { // Proc-Type / DEK-Info headers
      throw new IllegalArgumentException("the private key is encrypted: give it unencrypted (PKCS#8, PKCS#1 or SEC1)");
    }
    return Base64.getMimeDecoder().decode(body);
  }

  /** The named curve ({@code [0] parameters}) of a SEC1 ECPrivateKey (RFC 5915), an OID. */
  private static byte[] sec1Curve(byte[] sec1) {
    int[] outer = header(sec1, 0); // SEQUENCE { version, privateKey, [0] parameters, [1] publicKey }
    for (int at = outer[0]; at < outer[0] + outer[1]; ) {
      int[] element = header(sec1, at);
      if ((sec1[at] & 0xff) == 0xa0) {
        return Arrays.copyOfRange(sec1, element[0], element[0] + element[1]);
      }
      at = element[0] + element[1];
    }
    throw new IllegalArgumentException("the EC private key names no curve: give it as PKCS#8");
  }

  /** {offset of the contents, their length} of the DER element at {@code at}. */
  static int[] header(byte[] der, int at) {
    if (at + 1 >= der.length) {
      throw new IllegalArgumentException("the private key's DER is cut short");
    }
    int first = der[at + 1] & 0xff;
    if (first < 0x80) {
      return new int[] {at + 2, first};
    }
    int length = 0;
    for (int i = 0; i < (first & 0x7f); i++) {
      length = (length << 8) | (der[at + 2 + i] & 0xff);
    }
    return new int[] {at + 2 + (first & 0x7f), length};
  }

  private static byte[] der(int tag, byte[] contents) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int length = contents.length;
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else if (length < 0x10000) {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length & 0xff);
    } else {
      out.write(0x83);
      out.write(length >> 16);
      out.write((length >> 8) & 0xff);
      out.write(length & 0xff);
    }
    out.writeBytes(contents);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
