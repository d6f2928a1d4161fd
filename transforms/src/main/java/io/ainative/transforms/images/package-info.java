/**
 * Images from files to model inputs: {@link io.ainative.transforms.images.ReadImages} reads PNG
 * and JPEG files with Beam's {@code FileIO} into {@code KV<resource id, Image>} (bad files to a
 * failure output of {@link io.ainative.transforms.images.ImageReadFailure}s), {@link
 * io.ainative.transforms.images.ImagePreprocessing} is a ready-made pre-processing function from
 * an {@code Image} to the float tensor a model takes, and {@link
 * io.ainative.transforms.images.TensorProcessing} converts {@code Tensor} and {@code Embedding}
 * to and from the model's {@code NDList}.
 */
package io.ainative.transforms.images;
