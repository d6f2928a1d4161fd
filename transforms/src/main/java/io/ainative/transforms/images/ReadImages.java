package io.ainative.transforms.images;

import io.ainative.multimodal.coders.ImageCoder;
import io.ainative.multimodal.types.Image;
import java.util.Objects;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Reads PNG and JPEG files into {@link Image}s, keyed by each file's resource id (its full path or
 * URI, as {@code ResourceId.toString()} gives it), with {@link ImageCoder} on the values.
 *
 * <pre>{@code
 * // from a file pattern (any Beam FileSystems path: local, s3://, gs://, ...)
 * PCollection<KV<String, Image>> images = p.apply(ReadImages.from("/data/imgs/*"));
 *
 * // from files matched and opened by FileIO, like TextIO.readFiles()
 * PCollection<KV<String, Image>> images2 =
 *     p.apply(FileIO.match().filepattern("/data/imgs/*.jpg"))
 *         .apply(FileIO.readMatches())
 *         .apply(ReadImages.readFiles());
 *
 * // bad files in a failure output instead of failing the pipeline
 * WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> r =
 *     p.apply(ReadImages.from("/data/imgs/*").withFailures());
 * }</pre>
 *
 * <p>The format comes from the content (its magic number), not from the file's name: a JPEG named
 * {@code .png} is read as JPEG. The header (size, channels) is parsed and the container checked
 * for completeness when the file is read; pixels are decoded later, by {@link Image#decode()}
 * (unless {@link Read#withDecodeCheck} asks for it here). A file that cannot be read, whose content
 * is not PNG or JPEG, or that is truncated, is an {@link ImageReadException}: it fails the pipeline
 * with a message naming the file and the reason, or, after {@code withFailures()}, becomes an
 * {@link ImageReadFailure} in the failure output while every other file is read.
 *
 * <p>Each file is read whole into memory (an image needs all its bytes). Metrics, namespace
 * {@value #METRICS_NAMESPACE}: counters {@code images_read} and {@code failed_files}.
 */
public final class ReadImages {
  /** The namespace of the counters. */
  public static final String METRICS_NAMESPACE = "ReadImages";

  private ReadImages() {}

  /**
   * Reads the files that match {@code filepattern} ({@link FileIO#match()}; an empty match is
   * handled by {@link Read#withEmptyMatchTreatment}, {@link EmptyMatchTreatment#DISALLOW} by
   * default as in FileIO) and skips directories ({@link FileIO#readMatches()}).
   */
  public static Read from(String filepattern) {
    if (filepattern == null || filepattern.trim().isEmpty()) {
      throw new IllegalArgumentException("ReadImages.from: the file pattern must not be blank");
    }
    return new Read(filepattern, EmptyMatchTreatment.DISALLOW, false);
  }

  /**
   * Reads {@link FileIO.ReadableFile}s from {@code FileIO.readMatches()}: the form for files
   * found any other way ({@code FileIO.matchAll()}, a continuous match, metadata made by hand).
   * Compression is FileIO's: {@code readMatches()} decompresses {@code .gz} and the like by name.
   */
  public static ReadFiles readFiles() {
    return new ReadFiles(false);
  }

  /** {@link ReadImages#from}: a file pattern to {@code KV<resource id, Image>}. */
  public static final class Read extends PTransform<PBegin, PCollection<KV<String, Image>>> {
    private static final long serialVersionUID = 1L;
    private final String filepattern;
    private final EmptyMatchTreatment emptyMatchTreatment;
    private final boolean decodeCheck;

    private Read(String filepattern, EmptyMatchTreatment emptyMatchTreatment, boolean decodeCheck) {
      this.filepattern = filepattern;
      this.emptyMatchTreatment = emptyMatchTreatment;
      this.decodeCheck = decodeCheck;
    }

    /**
     * What a pattern that matches no file does: {@link EmptyMatchTreatment#DISALLOW} (the default)
     * fails the pipeline, {@link EmptyMatchTreatment#ALLOW} gives an empty output, {@link
     * EmptyMatchTreatment#ALLOW_IF_WILDCARD} allows it only for a pattern with a wildcard.
     */
    public Read withEmptyMatchTreatment(EmptyMatchTreatment treatment) {
      return new Read(
          filepattern, Objects.requireNonNull(treatment, "emptyMatchTreatment"), decodeCheck);
    }

    /** See {@link ReadFiles#withDecodeCheck}. */
    public Read withDecodeCheck(boolean decode) {
      return new Read(filepattern, emptyMatchTreatment, decode);
    }

    /** Adds a failure output for the files that are not images; see the class javadoc. */
    public ReadWithFailures withFailures() {
      return new ReadWithFailures(this);
    }

    public String getFilepattern() {
      return filepattern;
    }

    public EmptyMatchTreatment getEmptyMatchTreatment() {
      return emptyMatchTreatment;
    }

    @Override
    public PCollection<KV<String, Image>> expand(PBegin input) {
      return matchedFiles(input).apply("ReadImages", new ReadFiles(decodeCheck));
    }

    PCollection<FileIO.ReadableFile> matchedFiles(PBegin input) {
      return input
          .apply(
              "Match",
              FileIO.match().filepattern(filepattern).withEmptyMatchTreatment(emptyMatchTreatment))
          .apply("ReadMatches", FileIO.readMatches());
    }
  }

  /** {@link Read} with a failure output. */
  public static final class ReadWithFailures
      extends PTransform<PBegin, WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure>> {
    private static final long serialVersionUID = 1L;
    private final Read read;

    private ReadWithFailures(Read read) {
      this.read = read;
    }

    @Override
    public WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> expand(
        PBegin input) {
      return read.matchedFiles(input)
          .apply("ReadImages", new ReadFiles(read.decodeCheck).withFailures());
    }
  }

  /** {@link ReadImages#readFiles}: {@code ReadableFile} to {@code KV<resource id, Image>}. */
  public static final class ReadFiles
      extends PTransform<PCollection<FileIO.ReadableFile>, PCollection<KV<String, Image>>> {
    private static final long serialVersionUID = 1L;
    private final boolean decodeCheck;

    private ReadFiles(boolean decodeCheck) {
      this.decodeCheck = decodeCheck;
    }

    /**
     * Whether each image is also decoded when it is read (default false). Off, a file is checked
     * by its header and container (truncation is caught) and pixels that do not decode fail later,
     * where they are decoded (e.g. RunInference's pre-processing, as a failure at {@code
     * pre-process}). On, they fail here, with the file's name; the decoded pixels stay in the
     * {@link Image} for a consumer fused into the same stage, and are dropped when it is encoded.
     */
    public ReadFiles withDecodeCheck(boolean decode) {
      return new ReadFiles(decode);
    }

    /** Adds a failure output for the files that are not images; see {@link ReadImages}. */
    public ReadFilesWithFailures withFailures() {
      return new ReadFilesWithFailures(decodeCheck);
    }

    @Override
    public PCollection<KV<String, Image>> expand(PCollection<FileIO.ReadableFile> files) {
      TupleTag<KV<String, Image>> main = new TupleTag<>("images");
      return apply(files, decodeCheck, main, null).get(main);
    }
  }

  /** {@link ReadFiles} with a failure output. */
  public static final class ReadFilesWithFailures
      extends PTransform<
          PCollection<FileIO.ReadableFile>,
          WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure>> {
    private static final long serialVersionUID = 1L;
    private final boolean decodeCheck;

    private ReadFilesWithFailures(boolean decodeCheck) {
      this.decodeCheck = decodeCheck;
    }

    @Override
    public WithFailures.Result<PCollection<KV<String, Image>>, ImageReadFailure> expand(
        PCollection<FileIO.ReadableFile> files) {
      TupleTag<KV<String, Image>> main = new TupleTag<>("images");
      TupleTag<ImageReadFailure> failures = new TupleTag<>("failures");
      PCollectionTuple tuple = apply(files, decodeCheck, main, failures);
      return WithFailures.Result.of(tuple.get(main), tuple.get(failures));
    }
  }

  private static PCollectionTuple apply(
      PCollection<FileIO.ReadableFile> files,
      boolean decodeCheck,
      TupleTag<KV<String, Image>> main,
      @Nullable TupleTag<ImageReadFailure> failures) {
    TupleTagList additional = failures == null ? TupleTagList.empty() : TupleTagList.of(failures);
    PCollectionTuple tuple =
        files.apply(
            "ReadImage",
            ParDo.of(new ReadImageFn(decodeCheck, main, failures)).withOutputTags(main, additional));
    tuple.get(main).setCoder(KvCoder.of(StringUtf8Coder.of(), ImageCoder.of()));
    if (failures != null) {
      tuple.get(failures).setCoder(ImageReadFailureCoder.of());
    }
    return tuple;
  }
}
