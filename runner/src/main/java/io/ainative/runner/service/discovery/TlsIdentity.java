package io.ainative.runner.service.discovery;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.apache.beam.sdk.annotations.Internal;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The certificate and private key (PEM) a job's service instances present over TLS; clients trust
 * exactly this certificate. Either drawn per job at submission (a self-signed EC P-256 pair whose
 * only name is {@link #AUTHORITY}, so that it fits an instance on any host), or read from the
 * user's files. It travels with the job graph like the call token; never printed.
 */
@Internal
public final class TlsIdentity implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The name clients expect a self-signed instance certificate to carry. */
  public static final String AUTHORITY = "ainative-service";

  private final byte[] certificatePem;
  private final byte[] privateKeyPem;
  /** The host name clients check the certificate against, or null to check the instance's own host. */
  private final String authority;

  private TlsIdentity(byte[] certificatePem, byte[] privateKeyPem, String authority) {
    this.certificatePem = certificatePem;
    this.privateKeyPem = privateKeyPem;
    this.authority = authority;
  }

  /** A fresh self-signed pair for one job. */
  public static TlsIdentity selfSigned() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair pair = generator.generateKeyPair();
      Instant now = Instant.now();
      X500Name name = new X500Name("CN=" + AUTHORITY);
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              name,
              new BigInteger(64, new SecureRandom()),
              Date.from(now.minus(Duration.ofHours(1))),
              Date.from(now.plus(Duration.ofDays(3650))),
              name,
              pair.getPublic());
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, AUTHORITY)));
      X509CertificateHolder certificate = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
      return new TlsIdentity(pem(certificate), pem(new JcaPKCS8Generator(pair.getPrivate(), null)), AUTHORITY);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("could not make the job's TLS certificate", e);
    }
  }

  /**
   * The user's pair: a PEM certificate (chain) and its PKCS#8 PEM private key; clients check the
   * certificate against each instance's host name.
   *
   * @throws IllegalArgumentException naming the file that cannot be read
   */
  public static TlsIdentity fromFiles(String certificateFile, String privateKeyFile) {
    return new TlsIdentity(read(certificateFile, "--inferenceTlsCertFile"), read(privateKeyFile, "--inferenceTlsKeyFile"), null);
  }

  private static byte[] read(String file, String option) {
    try {
      return Files.readAllBytes(Path.of(file));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(option + ": cannot read '" + file + "': " + e, e);
    }
  }

  private static byte[] pem(Object object) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
      writer.writeObject(object);
    }
    return text.toString().getBytes(StandardCharsets.US_ASCII);
  }

  public InputStream certificate() {
    return new ByteArrayInputStream(certificatePem);
  }

  public InputStream privateKey() {
    return new ByteArrayInputStream(privateKeyPem);
  }

  /** The name clients check the certificate against, or null for the instance's own host name. */
  public String authority() {
    return authority;
  }

  @Override
  public String toString() {
    return authority == null ? "TLS with the user's certificate" : "TLS with the job's self-signed certificate";
  }
}
