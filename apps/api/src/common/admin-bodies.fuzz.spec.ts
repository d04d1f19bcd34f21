import { checkMappingProfile } from '@app/contract';
import { anyJson, anyText } from '@app/testing/src/hostile-feeds.js';
import { BadRequestException } from '@nestjs/common';
import fc from 'fast-check';
import { ApprovalBody, ApprovalParams, ApprovalQuery } from '../approvals/approvals.controller.js';
import { PlansDto } from '../plans/plan.dto.js';
import { ReportParams, ReportQuery } from '../reports/reports.controller.js';
import { KeyRequestDto, SourceDto, SourcePatchDto } from '../sources/source.dto.js';
import { BodyValidationPipe } from './body-validation.pipe.js';

/**
 * Admin API bodies under fuzzing (issue 23): whatever the body, the pipe answers with a DTO
 * or a 400, never another error (a 500), and a mapping profile gets a list of problems. The
 * approval and report parameters (issue 27) go through the same pipe.
 */
const pipe = new BodyValidationPipe();
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const dtos = [
  SourceDto,
  SourcePatchDto,
  KeyRequestDto,
  PlansDto,
  ApprovalBody,
  ApprovalParams,
  ApprovalQuery,
  ReportParams,
  ReportQuery,
] as const;

/** Bodies shaped like the DTOs, any field hostile. */
const body = fc.oneof(
  anyJson,
  fc.record(
    {
      id: fc.oneof(fc.constant('itel'), anyText),
      kind: fc.oneof(fc.constant('operator'), anyJson),
      displayName: fc.oneof(fc.constant('iTel'), anyJson),
      measures: fc.oneof(fc.constant(['mbb_subscriptions']), anyJson),
      areas: fc.oneof(fc.constant('*'), fc.constant(['37']), anyJson),
      reports: fc.oneof(fc.constant({ every: 'month', dueDays: 15 }), anyJson),
      mapping: anyJson,
      reason: fc.oneof(fc.constant('Viettel corrected March'), anyJson),
      area: fc.oneof(fc.constant('11'), anyText),
      period: fc.oneof(fc.constant('2024-Q1'), anyText),
      action: fc.oneof(fc.constant('approve'), anyText),
      lang: fc.oneof(fc.constant('vi'), anyText),
      format: fc.oneof(fc.constant('pdf'), anyText),
      plans: fc.array(
        fc.record({
          planId: anyText,
          area: fc.oneof(fc.constant('37'), anyText),
          targets: fc.oneof(fc.array(anyJson, { maxLength: 3 }), anyJson),
        }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: [] },
  ),
);

describe('admin API bodies under fuzzing', () => {
  it.each(dtos.map((d) => [d.name, d] as const))(
    '%s: a DTO or a 400 for any body (300 cases)',
    async (_name, metatype) => {
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          try {
            await pipe.transform(b, { type: 'body', metatype });
          } catch (e) {
            expect(e).toBeInstanceOf(BadRequestException);
          }
        }),
        { numRuns: 300, seed: SEED },
      );
    },
  );

  it('answers any mapping profile with a list of problems (500 cases)', () => {
    fc.assert(
      fc.property(anyJson, (p) => void expect(Array.isArray(checkMappingProfile(p))).toBe(true)),
      { numRuns: 500, seed: SEED },
    );
  });

  it('refuses a body class-transformer cannot read with a 400 that says so', async () => {
    await expect(
      pipe.transform(
        { displayName: { constructor: 'x' } },
        { type: 'body', metatype: SourcePatchDto },
      ),
    ).rejects.toThrow(BadRequestException);
  });
});
