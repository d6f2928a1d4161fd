package io.ainative.multimodal.testing;

import org.apache.beam.sdk.io.aws2.options.S3ClientBuilderFactory;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.aws2.s3.DefaultS3ClientBuilderFactory;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * Beam's S3 client builder with path-style addressing ({@code http://host:port/bucket/key}):
 * an emulator on 127.0.0.1 has no DNS name per bucket for the default virtual-host style. Set
 * with {@link S3Options#setS3ClientFactoryClass}; Beam instantiates it by reflection, so it needs
 * a public no-argument constructor.
 */
public final class PathStyleS3ClientBuilderFactory implements S3ClientBuilderFactory {
  @Override
  public S3ClientBuilder createBuilder(S3Options options) {
    return new DefaultS3ClientBuilderFactory().createBuilder(options).forcePathStyle(true);
  }
}
