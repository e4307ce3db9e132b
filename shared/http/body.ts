import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { PayloadTooLargeError } from '../domain/errors.js';
import { InvalidEncodingError } from './http-errors.js';

export interface RequestBody {
  /** Size in bytes, as sent. */
  size: number;
  /** The body as text; throws InvalidEncodingError (400, field "body") unless it is valid UTF-8. */
  text(): string;
}

/**
 * The request body, for JSON routes and page forms alike: the size limit is checked on the bytes
 * at once (413), the strict decoding is left to text() so that callers can refuse a wrong content
 * type (415) first. Base64 bodies (API Gateway's encoding for bytes it does not pass as text) are
 * decoded with a fatal TextDecoder: Buffer#toString would swap bad bytes for U+FFFD and we would
 * store the damage silently.
 */
export function requestBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, maxBytes: number): RequestBody {
  const body = event.body ?? '';
  if (!event.isBase64Encoded) {
    const size = Buffer.byteLength(body, 'utf8');
    if (size > maxBytes) throw new PayloadTooLargeError('body', maxBytes, size);
    return {
      size,
      text: () => {
        // Text arrived as a JS string already; lone surrogates are the one way it can still be invalid.
        if (!body.isWellFormed()) throw new InvalidEncodingError();
        return body;
      },
    };
  }
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length > maxBytes) throw new PayloadTooLargeError('body', maxBytes, bytes.length);
  return {
    size: bytes.length,
    text: () => {
      try {
        // ignoreBOM keeps a leading BOM in the text, as a text body would keep it (JSON.parse then refuses both alike).
        return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        throw new InvalidEncodingError();
      }
    },
  };
}

/**
 * An application/x-www-form-urlencoded body, with its percent-escapes held to UTF-8 as well:
 * URLSearchParams would turn %FF into U+FFFD. A stray "%" that starts no escape stays literal,
 * as URLSearchParams reads it.
 */
export function formFields(text: string): URLSearchParams {
  for (const part of text.split('&')) {
    try {
      decodeURIComponent(part.replace(/\+/g, ' ').replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
    } catch {
      throw new InvalidEncodingError();
    }
  }
  return new URLSearchParams(text);
}
