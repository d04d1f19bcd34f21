import {
  type ArgumentMetadata,
  BadRequestException,
  HttpException,
  Injectable,
  ValidationPipe,
} from '@nestjs/common';

/**
 * Nest's ValidationPipe, whose every failure is a 400. class-transformer throws on some
 * bodies before any rule runs (an object whose `constructor` is a string, found by fuzzing):
 * a body, however malformed, is the caller's mistake, never a 500.
 */
@Injectable()
export class BodyValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (e) {
      if (e instanceof HttpException) throw e;
      throw new BadRequestException(
        `the ${metadata.type} cannot be read: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
