package io.ainative.multimodal.store;

import java.io.IOException;

/** A failure of an {@link ObjectStore} operation; the message names the object reference. */
public class ObjectStoreException extends IOException {
  private static final long serialVersionUID = 1L;

  public ObjectStoreException(String message) {
    super(message);
  }

  public ObjectStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
