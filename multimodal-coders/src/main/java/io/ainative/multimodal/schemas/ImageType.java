package io.ainative.multimodal.schemas;

import io.ainative.multimodal.types.Image;
import io.ainative.multimodal.types.ImageFormat;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Beam logical type for {@link Image}: URN {@value #IDENTIFIER}, no argument.
 *
 * <p>Base representation: {@code ROW<format: STRING, data: BYTES>}, where {@code format} is {@code
 * png} or {@code jpeg} and {@code data} the encoded file.
 */
public final class ImageType extends FixedRowLogicalType<Image> {
  public static final String IDENTIFIER = "beam:logical_type:ainative:image:v1";

  public static final Schema BASE_SCHEMA =
      Schema.builder().addStringField("format").addByteArrayField("data").build();

  private static final long serialVersionUID = 1L;

  public ImageType() {
    super(IDENTIFIER, BASE_SCHEMA);
  }

  @Override
  public Row toBaseType(Image input) {
    return Row.withSchema(BASE_SCHEMA)
        .addValues(input.format().typeName(), input.toByteArray())
        .build();
  }

  @Override
  public Image toInputType(Row base) {
    String format = base.getString("format");
    byte[] data = base.getBytes("data");
    if (format == null || data == null) {
      throw new IllegalArgumentException("image row has a null format or data: " + base);
    }
    // Beam's RowCoder does not say which schema field failed; at least name the base field
    ImageFormat imageFormat;
    try {
      imageFormat = ImageFormat.fromTypeName(format);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("image.format: " + e.getMessage(), e);
    }
    try {
      return Image.wrap(imageFormat, data);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("image.data: " + e.getMessage(), e);
    }
  }
}
