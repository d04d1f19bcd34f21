import { Module } from '@nestjs/common';
import { PlansController } from '../plans/plans.controller.js';
import { CatalogueController } from './catalogue.controller.js';

/** The vocabulary (KPIs, measures, units) and the provinces' plan targets. */
@Module({ controllers: [CatalogueController, PlansController] })
export class CatalogueModule {}
