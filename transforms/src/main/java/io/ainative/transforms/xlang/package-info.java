/**
 * RunInference for pipelines written in other languages (Beam's cross-language transforms): the
 * external transform {@link io.ainative.transforms.xlang.RunInferenceExternal} that Beam's
 * expansion service offers, its built-in named pre- and post-processing, and {@link
 * io.ainative.transforms.xlang.ModelArchitecture}, the registry of architectures for DJL
 * parameter files.
 */
package io.ainative.transforms.xlang;
