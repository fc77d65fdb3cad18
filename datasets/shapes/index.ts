/** The synthetic shapes detection set: scenes, rasteriser, VOC/COCO writers, `makeShapes`. */
export { SHAPE_CLASSES, sampleScene, type Scene, type SceneOptions, type Shape, type ShapeClass } from './scene.ts';
export { renderScene } from './raster.ts';
export { cocoInstancesJson, vocAnnotationXml, type AnnotatedImage } from './formats.ts';
export { isHeldOut, makeShapes, shapesImage, type MakeShapesOptions, type MakeShapesResult } from './make.ts';
